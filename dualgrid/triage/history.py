"""Training data from the district's own history: closed cases and the patrol feed's decisions.

* ``case_examples`` — the category training set: every **closed** case with a category, its title and
  description → the case's category code (or, with ``level``, the code of its ancestor at that depth of
  the tree: level 1 = the top categories). Void cases (作废: duplicates, nonsense, out of scope) and
  uncategorised cases are left out; so are categories with fewer than ``min_per_label`` cases, which a
  model cannot learn and a held-out split cannot measure.
* ``feed_rows`` — the actionability rows from what grid workers did with flagged group messages:
  转为事件 (state ``case``) → actionable; 忽略 → not actionable, **except** the reasons 重复 (the matter
  was real, only already reported) and 已线下处理 (the matter was real and handled without a case), which
  say nothing against the message. Messages the triage never flagged (state ``chatter``) are **not**
  labels: nobody looked at them, so "not flagged" is the rules' opinion, not a person's, and learning
  from it would only teach the model to repeat the rules (including their misses). Messages linked
  automatically to an open case (``linked``) are left out for the same reason. A message made into a
  紧急 case is also a 紧急 decision (the urgency model learns from those).

Both read the database through the ORM only; the texts never leave the process except into the model
folder (under VAR_DIR, see learn.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils import timezone

from .features import to_doc
from .learn import Example

# Dismiss reasons (watch.feed.DISMISS_REASONS) that do not mean "nothing to act on".
NOT_A_NEGATIVE = ("重复", "已线下处理")


@dataclass
class HistoryStats:
    """What was read and what was left out, for the command's report."""

    used: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        skipped = ", ".join(f"{why} {n}" for why, n in self.skipped.most_common()) or "none"
        return f"{self.used} rows ({', '.join(f'{k} {v}' for k, v in self.labels.most_common())}); left out: {skipped}"


def _start_of(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def case_text(title: str, description: str) -> str:
    """Title and description as one text; a description that repeats the title (cases made from a group
    message are prefilled that way) is not doubled."""
    title = (title or "").strip()
    description = (description or "").strip()
    if not title or description.startswith(title):
        return description
    return f"{title}\n{description}" if description else title


def _ancestor_codes(level: int | None) -> dict[int, str]:
    """category id → the code to learn: its own, or its ancestor's at ``level`` (1 = top)."""
    from dualgrid.cases.models import Category

    rows = {
        pk: (code, parent) for pk, code, parent in Category.objects.values_list("id", "code", "parent_id")
    }
    out: dict[int, str] = {}
    for pk, (code, _) in rows.items():
        if not level:
            out[pk] = code
            continue
        chain = [pk]
        seen = {pk}
        while (parent := rows[chain[-1]][1]) is not None and parent in rows and parent not in seen:
            chain.append(parent)
            seen.add(parent)
        chain.reverse()  # top first
        out[pk] = rows[chain[min(level, len(chain)) - 1]][0]
    return out


def case_examples(
    *, since: date | None = None, level: int | None = None, min_per_label: int = 3
) -> tuple[list[Example], HistoryStats]:
    """Closed, categorised cases (closed on or after ``since``, local time) as category examples."""
    from dualgrid.cases.models import Case, Status

    stats = HistoryStats()
    qs = Case.objects.all()
    start = _start_of(since)
    if start is not None:
        qs = qs.filter(closed_at__gte=start)
    codes = _ancestor_codes(level)
    raw: list[tuple[str, str]] = []
    for status, category_id, title, description in qs.values_list(
        "status", "category_id", "title", "description"
    ).iterator(chunk_size=2000):
        if status == Status.VOID:
            stats.skipped["void"] += 1
        elif status != Status.CLOSED:
            stats.skipped["not closed"] += 1
        elif category_id is None or category_id not in codes:
            stats.skipped["uncategorised"] += 1
        else:
            raw.append((case_text(title, description), codes[category_id]))
    counts = Counter(label for _, label in raw)
    examples: list[Example] = []
    for text, label in raw:
        if counts[label] < min_per_label:
            stats.skipped[f"category with < {min_per_label} cases"] += 1
            continue
        doc = to_doc(text)
        if not doc:
            stats.skipped["no words"] += 1
            continue
        examples.append(Example(doc, label))
        stats.labels[label] += 1
    stats.used = len(examples)
    return examples, stats


def feed_rows(*, since: date | None = None) -> tuple[list[tuple[str, bool, bool]], HistoryStats]:
    """(text, made into a case?, was that case 紧急?) for every text message a person handled in the
    patrol feed. The urgency is the case's as it stands (the worker may have changed the prefilled one)."""
    from dualgrid.cases.models import Urgency
    from dualgrid.watch.models import GroupMessage, MessageKind, MessageState

    stats = HistoryStats()
    qs = GroupMessage.objects.filter(
        kind=MessageKind.TEXT, state__in=(MessageState.CASE, MessageState.DISMISSED)
    )
    start = _start_of(since)
    if start is not None:
        qs = qs.filter(handled_at__gte=start)
    rows: list[tuple[str, bool, bool]] = []
    for state, reason, text, urgency in qs.values_list(
        "state", "dismiss_reason", "text", "case__urgency"
    ).iterator(chunk_size=2000):
        if not (text or "").strip():
            stats.skipped["no text"] += 1
            continue
        if state == MessageState.CASE:
            urgent = urgency == Urgency.URGENT
            rows.append((text, True, urgent))
            stats.labels["made into a case"] += 1
            if urgent:
                stats.labels["of which 紧急"] += 1
            continue
        head = (reason or "").split("：", 1)[0]
        if head in NOT_A_NEGATIVE:
            stats.skipped[f"dismissed as {head}"] += 1
            continue
        rows.append((text, False, False))
        stats.labels["dismissed"] += 1
    stats.used = len(rows)
    return rows, stats
