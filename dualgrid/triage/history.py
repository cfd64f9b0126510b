"""Training data from the district's own history: closed cases and the patrol feed's decisions.

* ``case_examples`` — the category training set: every **closed** case with a category, its title and
  description → the case's category code (or, with ``level``, the code of its ancestor at that depth of
  the tree: level 1 = the top categories). Void cases (作废: duplicates, nonsense, out of scope) and
  uncategorised cases are left out; so are categories with fewer than ``min_per_label`` cases, which a
  model cannot learn and a held-out split cannot measure.
* ``feed_rows`` — the actionability rows from what grid workers did with flagged group messages:
  转为事件 (state ``case``) → actionable; 忽略 → not actionable, **except** the reasons 重复 (the matter
  was real, only already reported) and 已线下处理 (the matter was real and handled without a case), which
  say nothing against the message. A message made into a 紧急 case is also a 紧急 decision (the urgency
  model learns from those). Messages linked automatically to an open case (``linked``) are left out:
  nobody judged them.
  Messages the triage never flagged (state ``chatter``) are not decisions either, but they are what
  ordinary chatter looks like, and the decisions hold none: a model learnt from decisions alone has
  never seen "早上好" or "收到" and flags them (bench/triage_feed_sim.py: 28 % of real SMS and chit-chat).
  So the newest never-flagged text messages join as chatter, ``chatter_per_decision`` of them per
  decision (default 1, drawn at random from the newest ten times that many). The rules' misses among
  them are taught as chatter too; capping their number keeps that a small share of the rows.

Both read the database through the ORM only; the texts never leave the process except into the model
folder (under VAR_DIR, see learn.py).
"""

from __future__ import annotations

import random
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


# Never-flagged messages taken as chatter, per decision (see the module's docstring).
CHATTER_PER_DECISION = 1.0
CHATTER_POOL_FACTOR = 10  # drawn from the newest this many times as many never-flagged messages


def feed_rows(
    *, since: date | None = None, chatter_per_decision: float = CHATTER_PER_DECISION, seed: int = 0
) -> tuple[list[tuple[str, bool, bool]], HistoryStats]:
    """(text, made into a case?, was that case 紧急?) for every text message a person handled in the
    patrol feed, then never-flagged messages as chatter (``chatter_per_decision`` per decision). The
    urgency is the case's as it stands (the worker may have changed the prefilled one)."""
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
    for state, reason, text, urgency in (
        qs.order_by("id")
        .values_list("state", "dismiss_reason", "text", "case__urgency")
        .iterator(chunk_size=2000)
    ):
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
    wanted = int(round(chatter_per_decision * len(rows)))
    if wanted > 0:
        never = GroupMessage.objects.filter(kind=MessageKind.TEXT, state=MessageState.CHATTER)
        if start is not None:
            never = never.filter(received_at__gte=start)
        pool = [
            text
            for text in never.order_by("-sent_at").values_list("text", flat=True)[
                : wanted * CHATTER_POOL_FACTOR
            ]
            if (text or "").strip()
        ]
        chosen = random.Random(seed).sample(pool, min(wanted, len(pool)))
        rows.extend((text, False, False) for text in chosen)
        if chosen:
            stats.labels["never flagged, as chatter"] += len(chosen)
    stats.used = len(rows)
    return rows, stats
