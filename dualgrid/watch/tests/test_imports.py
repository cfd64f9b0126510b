"""Chat-history imports: WeCom 会话内容存档 JSON lines and CSV with a column mapping; idempotent
re-imports, bad rows reported by line, the command and the upload page."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from dualgrid.conftest import Cast
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.watch import imports
from dualgrid.watch.imports import ImportFailed, import_file
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    GroupMessage,
    MessageKind,
    MessageState,
    QuarantinedGroup,
)

ROOM = "wrOgQhDgAAcwMTB7YmDkbeBsgT_AAAA"
MS = 1763900100123  # 2025-11-23 12:15:00.123 UTC


@pytest.fixture
def archive(cast: Cast) -> Connector:
    return Connector.objects.create(
        slug="arch", name="会话存档", kind=ConnectorKind.IMPORT, platform=Platform.WECOM
    )


@pytest.fixture
def room(cast: Cast) -> ChatGroup:
    return ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.WECOM, name="大佛1网格企微群", external_id=ROOM
    )


def _jsonl(*records: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records).encode()


def _wecom(msgid: str, **kw: object) -> dict[str, object]:
    record: dict[str, object] = {
        "msgid": msgid,
        "action": "send",
        "from": "wmErxtDgAAhteCglUZH2kUt3rq431qmg",
        "tolist": ["zhangsan"],
        "roomid": ROOM,
        "msgtime": MS,
        "msgtype": "text",
        "text": {"content": "小区门口下水道堵了，污水漫到路上"},
    }
    record.update(kw)
    return record


WECOM_FILE = _jsonl(
    _wecom("m-1"),
    _wecom("m-2", msgtype="image", image={"md5sum": "50de8e5ae8ffe4f1df7a93841f71993a", "filesize": 70961}),
    _wecom("m-3", roomid="", tolist=["lisi"]),  # single chat: not a group
    {"msgid": "m-4", "action": "recall", "from": "zhangsan", "roomid": ROOM, "msgtime": MS},
    {"msgid": "m-5", "action": "switch", "time": MS, "user": "zhangsan"},
    "{not json",
    _wecom("m-7", text={"content": "  "}),
    _wecom("", text={"content": "没有消息ID"}),
    _wecom("m-9", msgtype="voice", voice={"voice_size": 4000, "play_length": 10}),
    _wecom("m-10", text={"content": "9社堰塘又吵起来了 😡 please help"}, roomid="wrUnknownRoom"),
    "",
    _wecom("m-12", msgtime="yesterday"),
)


def test_wecom_archive_imports_group_messages_and_reports_the_rest(archive, room) -> None:  # type: ignore[no-untyped-def]
    report = import_file(archive, "wecom", io.BytesIO(WECOM_FILE))
    assert (report.rows, report.candidates, report.stored) == (11, 4, 4)
    assert report.not_group == 1
    assert dict(report.actions) == {"recall": 1, "switch": 1}
    assert [line for line, _ in report.errors] == [6, 7, 8, 12]
    reasons = dict(report.errors)
    assert "不是有效的JSON" in reasons[6]
    assert reasons[7] == "文字消息缺少 text.content"
    assert reasons[8] == "缺少消息ID（msgid）"
    assert "时间“yesterday”无法识别" in reasons[12]
    text = GroupMessage.objects.get(external_id="m-1")
    assert (text.kind, text.chat_group, text.grid_id) == (MessageKind.TEXT, room, room.grid_id)
    assert text.text == "小区门口下水道堵了，污水漫到路上"
    assert text.sent_at == datetime(2025, 11, 23, 12, 15, 0, 123000, tzinfo=UTC)
    assert text.sender_id == "wmErxtDgAAhteCglUZH2kUt3rq431qmg"
    image = GroupMessage.objects.get(external_id="m-2")
    assert (image.kind, image.text, image.actionable) == (MessageKind.IMAGE, "", False)
    assert image.attachment["msgtype"] == "image" and image.attachment["filesize"] == 70961
    assert GroupMessage.objects.get(external_id="m-9").kind == MessageKind.VOICE
    unknown = GroupMessage.objects.get(external_id="m-10")
    assert unknown.state == MessageState.QUARANTINED and "😡" in unknown.text
    assert QuarantinedGroup.objects.get(external_group_id="wrUnknownRoom").message_count == 1
    summary = "\n".join(report.summary())
    assert "跳过非群聊（单聊）记录 1 条" in summary
    assert "跳过撤回消息（action=recall）记录 1 条" in summary
    assert "跳过切换企业日志（action=switch）记录 1 条" in summary
    assert "有问题未导入 4 行" in summary and "第6行：" in summary


def test_reimporting_the_same_file_stores_nothing_new(archive, room) -> None:  # type: ignore[no-untyped-def]
    import_file(archive, "wecom", io.BytesIO(WECOM_FILE))
    again = import_file(archive, "wecom", io.BytesIO(WECOM_FILE))
    assert (again.stored, again.duplicates) == (0, 4)
    assert GroupMessage.objects.count() == 4
    assert QuarantinedGroup.objects.get(external_group_id="wrUnknownRoom").message_count == 1


def test_big_files_go_through_ingest_in_batches(archive, room, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sizes: list[int] = []
    real = imports.ingest

    def counting(connector, items):  # type: ignore[no-untyped-def]
        sizes.append(len(items))
        return real(connector, items)

    monkeypatch.setattr(imports, "ingest", counting)
    data = _jsonl(*(_wecom(f"b-{i}", msgtype="image", image={}) for i in range(2500)))
    report = import_file(archive, "wecom", io.BytesIO(data))
    assert sizes == [1000, 1000, 500]
    assert report.stored == 2500


CSV_TEXT = (
    "群ID,消息ID,发送人,时间,内容\r\n"
    f"{ROOM},c-1,龚大哥,2026-11-23 20:15:00,9社龚氏兄弟因堰塘使用又打起来了\r\n"
    f'{ROOM},c-2,王婆婆,2026/11/23 20:16,"两行的\r\n留言"\r\n'
    f"{ROOM},c-3,李四,明天,时间不对\r\n"
    f"{ROOM},c-4,李四,2026-11-23 20:17:00,\r\n"
    ",c-5,李四,2026-11-23 20:17:00,没有群\r\n"
    "\r\n"
    f"{ROOM},c-7,赵六,1763900100,Unix 秒也行 ✅\r\n"
)


def test_csv_with_default_columns_utf8_bom(archive, room) -> None:  # type: ignore[no-untyped-def]
    report = import_file(archive, "csv", io.BytesIO(b"\xef\xbb\xbf" + CSV_TEXT.encode()))
    assert report.encoding == "utf-8"
    assert report.stored == 3
    assert report.errors == [
        (5, "时间“明天”无法识别（支持 2026-11-23 20:15:00、ISO 8601 或 Unix 时间戳）"),
        (6, "内容为空"),
        (7, "缺少群ID"),
    ]
    first = GroupMessage.objects.get(external_id="c-1")
    assert first.sent_at == datetime(2026, 11, 23, 12, 15, tzinfo=UTC)  # naive = Asia/Shanghai
    assert first.sender_name == "龚大哥" and first.chat_group == room
    assert GroupMessage.objects.get(external_id="c-2").text == "两行的\r\n留言"
    assert GroupMessage.objects.get(external_id="c-7").sent_at == datetime(2025, 11, 23, 12, 15, tzinfo=UTC)


def test_gbk_csv_with_a_column_mapping_and_no_message_ids(archive, room) -> None:  # type: ignore[no-untyped-def]
    text = "会话,时间戳,昵称,消息内容,类型\n" + "\n".join(
        [
            f"{ROOM},2026-11-23 08:00:00,张三,早上好,文字",
            f"{ROOM},2026-11-23 08:00:00,张三,早上好,文字",  # the same words twice: two messages
            f"{ROOM},2026-11-23 08:01:00,张三,,图片",
            f"{ROOM},2026-11-23 08:02:00,张三,x,表情包",
        ]
    )
    mapping = "group_id=会话,time=时间戳,sender=昵称,text=消息内容,type=类型"
    report = import_file(archive, "csv", io.BytesIO(text.encode("gbk")), mapping)
    assert report.encoding == "gbk"
    assert report.stored == 3
    assert report.errors == [(5, "消息类型“表情包”无法识别（文字/图片/语音/视频/文件）")]
    ids = sorted(GroupMessage.objects.values_list("external_id", flat=True))
    assert all(i.startswith("csv:") for i in ids) and len(set(ids)) == 3
    assert GroupMessage.objects.filter(kind=MessageKind.IMAGE).count() == 1
    again = import_file(archive, "csv", io.BytesIO(text.encode("gbk")), mapping)
    assert (again.stored, again.duplicates) == (0, 3)


def test_csv_missing_columns_or_bad_mapping_imports_nothing(archive, room) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportFailed) as err:
        import_file(archive, "csv", io.BytesIO("群ID,内容\nx,y\n".encode()))
    assert "表头缺少必需的列：发送时间（列“时间”）" in str(err.value)
    with pytest.raises(ImportFailed, match="未知字段“room”"):
        import_file(archive, "csv", io.BytesIO(CSV_TEXT.encode()), "room=群ID")
    with pytest.raises(ImportFailed, match="文件是空的"):
        import_file(archive, "csv", io.BytesIO(b""))
    assert not GroupMessage.objects.exists()


def test_command_imports_and_reports_in_chinese(archive, room, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "history.csv"
    path.write_bytes(CSV_TEXT.encode("utf-8"))
    out = io.StringIO()
    call_command("watch_import", str(path), connector="arch", format="csv", stdout=out)
    assert "新入库 3 条" in out.getvalue() and "第5行：时间“明天”无法识别" in out.getvalue()
    out = io.StringIO()
    call_command(
        "watch_import",
        str(path),
        "--connector=arch",
        "--format=csv",
        "--map=group_id=群ID,message_id=消息ID,sender=发送人,time=时间,text=内容",
        stdout=out,
    )
    assert "新入库 0 条；已存在（重复导入）3 条" in out.getvalue()
    with pytest.raises(CommandError, match="消息接入“nope”不存在"):
        call_command("watch_import", str(path), connector="nope", format="csv")
    with pytest.raises(CommandError, match="未导入：表头缺少必需的列"):
        call_command("watch_import", str(path), connector="arch", format="csv", map="time=发送时间")
    wecom = tmp_path / "archive.jsonl"
    wecom.write_bytes(WECOM_FILE)
    out = io.StringIO()
    call_command("watch_import", str(wecom), connector="arch", format="wecom", stdout=out)
    assert "新入库 4 条" in out.getvalue()


def test_upload_page_for_administrators(cast, archive, room, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.admin)
    assert client.get(reverse("watch:import")).status_code == 200
    upload = SimpleUploadedFile("archive.jsonl", WECOM_FILE, content_type="application/octet-stream")
    response = client.post(
        reverse("watch:import"), {"connector": archive.pk, "format": "wecom", "file": upload}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "新入库 4 条" in page and "跳过非群聊（单聊）记录 1 条" in page and "第6行" in page
    upload = SimpleUploadedFile("bad.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post(
        reverse("watch:import"), {"connector": archive.pk, "format": "csv", "file": upload}
    )
    assert response.status_code == 422 and "未导入：表头缺少必需的列" in response.content.decode()
    assert login(cast.dispatcher).get(reverse("watch:import")).status_code == 403
