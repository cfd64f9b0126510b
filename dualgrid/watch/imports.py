"""Chat-history imports for groups no bot can join: WeCom 会话内容存档 (JSON lines) and CSV.

Every good row becomes an :class:`~dualgrid.watch.inbound.Inbound` and is stored through
:func:`~dualgrid.watch.inbound.ingest` in batches, so a re-import of the same file stores nothing new
(unique per connector and message id). Bad rows are reported with their line number and reason and do
not stop the good ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .inbound import Inbound, IngestResult, ingest
from .models import Connector, MessageKind

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 200
FORMATS = {"wecom": "企业微信会话内容存档（JSON行）", "csv": "CSV表格"}

# CSV: field → default column title. --map / the form's mapping override them.
CSV_FIELDS = {
    "group_id": "群ID",
    "message_id": "消息ID",
    "sender": "发送人",
    "sender_id": "发送人ID",
    "time": "时间",
    "text": "内容",
    "type": "类型",
    "group_name": "群名称",
}
CSV_REQUIRED = ("group_id", "time", "text")
CSV_FIELD_LABELS = {
    "group_id": "群ID",
    "message_id": "消息ID（可无：按群、时间、发送人、内容生成）",
    "sender": "发送人姓名",
    "sender_id": "发送人ID",
    "time": "发送时间",
    "text": "内容",
    "type": "消息类型（可无：默认文字）",
    "group_name": "群名称",
}
TYPE_WORDS = {
    "text": MessageKind.TEXT,
    "文字": MessageKind.TEXT,
    "文本": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "图片": MessageKind.IMAGE,
    "voice": MessageKind.VOICE,
    "语音": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "视频": MessageKind.VIDEO,
    "file": MessageKind.FILE,
    "文件": MessageKind.FILE,
}
WECOM_KINDS = {
    "text": MessageKind.TEXT,
    "markdown": MessageKind.TEXT,
    "mixed": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "emotion": MessageKind.IMAGE,
    "voice": MessageKind.VOICE,
    "meeting_voice_call": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.FILE,
}
WECOM_SKIPPED_ACTIONS = {"recall": "撤回消息", "switch": "切换企业日志"}
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)


class ImportFailed(Exception):
    """The whole file cannot be read (unknown format, missing columns): nothing was imported."""


class RowError(Exception):
    pass


@dataclass
class ImportReport:
    format: str
    encoding: str = ""
    rows: int = 0
    candidates: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    flagged: int = 0
    not_group: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    error_count: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))

    def add(self, result: IngestResult) -> None:
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.quarantined += result.quarantined
        self.flagged += result.flagged

    @property
    def skipped(self) -> int:
        return self.not_group + sum(self.actions.values()) + self.error_count

    def summary(self) -> list[str]:
        """The report in Chinese, one line each; what was skipped is said explicitly."""
        lines = [
            f"共读取 {self.rows} 行{f'（编码 {self.encoding}）' if self.encoding else ''}，"
            f"其中群消息 {self.candidates} 条。",
            f"新入库 {self.stored} 条；已存在（重复导入）{self.duplicates} 条；"
            f"其中待处置 {self.flagged} 条，未知群 {self.quarantined} 条（已留存，待管理员关联网格群）。",
        ]
        if self.not_group:
            lines.append(f"跳过非群聊（单聊）记录 {self.not_group} 条。")
        for action, count in sorted(self.actions.items()):
            label = WECOM_SKIPPED_ACTIONS.get(action, action)
            lines.append(f"跳过{label}（action={action}）记录 {count} 条。")
        if self.error_count:
            more = f"（仅列出前 {MAX_REPORTED_ERRORS} 条）" if self.error_count > len(self.errors) else ""
            lines.append(f"有问题未导入 {self.error_count} 行{more}：")
            lines.extend(f"  第{line}行：{reason}" for line, reason in self.errors)
        else:
            lines.append("没有出错的行。")
        return lines


# --- shared helpers -----------------------------------------------------------------------------------


def _when(value: Any) -> datetime:
    """Epoch seconds/milliseconds, ISO 8601 or a common local format (naive = Asia/Shanghai)."""
    if isinstance(value, bool):
        raise RowError("时间无法识别")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        number = float(value)
        seconds = number / 1000 if number > 10**11 else number
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"时间“{value}”超出范围") from None
    text = str(value or "").strip()
    if not text:
        raise RowError("缺少时间")
    parsed: datetime | None = None
    try:
        parsed = parse_datetime(text.replace("/", "-")) if "年" not in text else None
    except ValueError:
        parsed = None
    if parsed is None:
        for fmt in TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowError(f"时间“{text[:40]}”无法识别（支持 2026-11-23 20:15:00、ISO 8601 或 Unix 时间戳）")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _id(value: Any, what: str, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if not text and required:
        raise RowError(f"缺少{what}")
    if len(text) > 128:
        raise RowError(f"{what}过长（最多128字符）")
    return text


def _store(connector: Connector, items: Iterable[Inbound], report: ImportReport) -> None:
    batch: list[Inbound] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            report.add(ingest(connector, batch))
            batch = []
    if batch:
        report.add(ingest(connector, batch))


# --- WeCom 会话内容存档 ---------------------------------------------------------------------------------


def _wecom_content(record: dict[str, Any], msgtype: str) -> tuple[str, str, dict[str, Any]]:
    kind = WECOM_KINDS.get(msgtype, MessageKind.OTHER)
    raw_body = record.get(msgtype)
    body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
    if msgtype == "text" or msgtype == "markdown":
        content = body.get("content")
        text = content if isinstance(content, str) else ""
        if not text.strip():
            raise RowError("文字消息缺少 text.content")
        return kind, text, {}
    if msgtype == "mixed":
        parts = []
        for item in body.get("item") or []:
            if isinstance(item, dict) and item.get("type") == "text":
                content = item.get("content")
                try:
                    content = json.loads(content).get("content", "") if isinstance(content, str) else ""
                except (json.JSONDecodeError, AttributeError):
                    pass
                if isinstance(content, str):
                    parts.append(content)
        text = "".join(parts).strip()
        if text:
            return kind, text, {"msgtype": "mixed"}
        return MessageKind.IMAGE, "", {"msgtype": "mixed"}
    attachment: dict[str, Any] = {"msgtype": msgtype}
    for key in ("filename", "fileext", "filesize", "md5sum", "play_length", "voice_size", "sdkfileid"):
        value = body.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            attachment[key] = value if key != "sdkfileid" else str(value)[:200]
    return kind, "", attachment


def parse_wecom(lines: Iterable[bytes], report: ImportReport) -> Iterator[Inbound]:
    """Decrypted 会话内容存档 records, one JSON object a line; only group chats (with ``roomid``)."""
    report.encoding = "utf-8"
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        report.rows += 1
        try:
            try:
                record = json.loads(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise RowError("不是UTF-8编码") from None
            except json.JSONDecodeError as exc:
                raise RowError(f"不是有效的JSON（{exc.msg}，第{exc.colno}列）") from None
            if not isinstance(record, dict):
                raise RowError("应为JSON对象")
            action = str(record.get("action") or "send")
            if action != "send":
                report.actions[action] += 1
                continue
            roomid = record.get("roomid")
            if not roomid:
                report.not_group += 1
                continue
            msgtype = str(record.get("msgtype") or "")
            if not msgtype:
                raise RowError("缺少 msgtype")
            kind, text, attachment = _wecom_content(record, msgtype)
            if "msgtime" not in record:
                raise RowError("缺少 msgtime")
            sender = _id(record.get("from"), "发送人（from）", required=False)
            item = Inbound(
                external_id=_id(record.get("msgid"), "消息ID（msgid）"),
                group_id=_id(roomid, "群ID（roomid）"),
                kind=kind,
                text=text,
                sender_id=sender,
                sender_name=sender[:64],
                sent_at=_when(record.get("msgtime")),
                attachment=attachment,
            )
        except RowError as exc:
            report.error(number, str(exc))
            continue
        report.candidates += 1
        yield item


def import_wecom(connector: Connector, stream: IO[bytes]) -> ImportReport:
    report = ImportReport(format="wecom")
    _store(connector, parse_wecom(stream, report), report)
    return report


# --- CSV ----------------------------------------------------------------------------------------------


def parse_mapping(text: str) -> dict[str, str]:
    """``group_id=群ID,text=内容`` → the column of each field (defaults for the rest)."""
    mapping = dict(CSV_FIELDS)
    for part in (text or "").replace("，", ",").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not column:
            raise ImportFailed(f"列对应“{part.strip()}”应写成 字段=列名，如 group_id=群ID")
        if key not in CSV_FIELDS:
            raise ImportFailed(f"未知字段“{key}”，可用：{'、'.join(CSV_FIELDS)}")
        mapping[key] = column
    return mapping


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GBK (as GB18030, its superset)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise ImportFailed("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的CSV") from None


def _derived_id(group: str, when: str, sender: str, text: str, seen: Counter[str]) -> str:
    """A stable id for files without message ids: identical rows get #2, #3… in file order."""
    digest = hashlib.sha1("\x1f".join((group, when, sender, text)).encode()).hexdigest()[:24]
    seen[digest] += 1
    return f"csv:{digest}#{seen[digest]}"


def parse_csv(text: str, mapping: dict[str, str], report: ImportReport) -> Iterator[Inbound]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFailed("文件是空的") from None
    except csv.Error as exc:
        raise ImportFailed(f"表头无法解析：{exc}") from None
    index = {name: i for i, name in enumerate(header) if name}
    missing = [
        f"{CSV_FIELD_LABELS[key]}（列“{mapping[key]}”）" for key in CSV_REQUIRED if mapping[key] not in index
    ]
    if missing:
        raise ImportFailed(
            f"表头缺少必需的列：{'、'.join(missing)}。表头为：{'、'.join(header) or '（空）'}；可用列对应修改列名"
        )
    columns = {key: index.get(column) for key, column in mapping.items()}
    seen: Counter[str] = Counter()
    previous = reader.line_num

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.rows += 1
            report.error(previous + 1, f"无法解析：{exc}")
            previous = reader.line_num
            continue
        number, previous = previous + 1, reader.line_num  # a quoted cell may span lines: its first one
        if not any(c.strip() for c in row):
            continue
        report.rows += 1
        try:
            group = _id(cell(row, "group_id"), "群ID")
            raw_time = cell(row, "time")
            sent_at = _when(raw_time)
            kind_word = cell(row, "type")
            kind = TYPE_WORDS.get(kind_word.lower(), None) if kind_word else MessageKind.TEXT
            if kind is None:
                raise RowError(f"消息类型“{kind_word[:20]}”无法识别（文字/图片/语音/视频/文件）")
            body = cell(row, "text")
            if kind == MessageKind.TEXT and not body.strip():
                raise RowError("内容为空")
            sender = cell(row, "sender")
            sender_id = _id(cell(row, "sender_id"), "发送人ID", required=False)
            message_id = _id(cell(row, "message_id"), "消息ID", required=False)
            if not message_id:
                message_id = _derived_id(group, raw_time, sender_id or sender, body, seen)
            item = Inbound(
                external_id=message_id,
                group_id=group,
                group_name=cell(row, "group_name")[:128],
                kind=kind,
                text=body.strip() if kind == MessageKind.TEXT else body,
                sender_id=sender_id,
                sender_name=sender[:64],
                sent_at=sent_at,
            )
        except RowError as exc:
            report.error(number, str(exc))
            continue
        report.candidates += 1
        yield item


def import_csv(connector: Connector, data: bytes, mapping: str | dict[str, str] = "") -> ImportReport:
    columns = mapping if isinstance(mapping, dict) else parse_mapping(mapping)
    text, encoding = decode(data)
    report = ImportReport(format="csv", encoding=encoding)
    _store(connector, parse_csv(text, columns, report), report)
    return report


def import_file(connector: Connector, fmt: str, stream: IO[bytes], mapping: str = "") -> ImportReport:
    """The one entry point of the command and the upload page."""
    if fmt == "wecom":
        return import_wecom(connector, stream)
    if fmt == "csv":
        return import_csv(connector, stream.read(), mapping)
    raise ImportFailed(f"不支持的格式“{fmt}”，可用：{'、'.join(FORMATS)}")
