"""分级预警: rules over the recent cases that raise graded warnings, and their owners' actions.

Three rules, thresholds in ``settings.DUALGRID`` (WARNING_*):

- ``disputes`` — repeated disputes in one grid: cases of the 矛盾纠纷 tree (code prefix) registered
  in the window (7 days).
- ``surge`` — one leaf category (other than disputes) in one grid: the window's count reaches the yellow count and the
  surge factor times the grid's own average per window over the baseline weeks before it.
- ``address`` — a flood about one address: cases with the same normalised address in the window.

Each count maps to 黄/橙/红 by the rule's three thresholds. ``raise_warnings`` is idempotent: at most
one warning per rule and place is active (open or acknowledged; a partial unique constraint holds it),
and later cases join that warning (raising its level if the count now reaches a higher threshold).
Once a warning is closed, only cases registered after its last case can raise the next one, so the
same cases never raise twice. Voided cases (不予受理) are left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.cases.models import Case, Category, Status
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.places.models import Grid
from dualgrid.places.selectors import within_unit

from .models import ACTIVE_WARNING_STATUSES, Warning, WarningLevel, WarningRule, WarningStatus

NOT_FOUND = "预警不存在或不在您的管辖范围内"
LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
# Who may acknowledge and close a warning in their scope (besides its owner); leaders only read.
ACTING_ROLES = (Role.DISPATCHER, Role.ADMIN)


def grade(count: int, thresholds: Sequence[int]) -> WarningLevel | None:
    reached = sum(1 for threshold in thresholds if count >= threshold)
    return LEVELS[reached - 1] if reached else None


_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_address(address: str) -> str:
    """One spelling per address: full-width to half-width (NFKC), lower case, no spaces or punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", address)).lower()


@dataclass
class Finding:
    """What a rule found about one place: enough to raise or update a warning."""

    rule: WarningRule
    key: str
    cases: list[int]
    reason: str
    thresholds: Sequence[int]
    grid_id: int | None = None
    village_id: int | None = None
    town_id: int | None = None
    county_id: int | None = None
    category_id: int | None = None
    address: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _recent(now: datetime, days: int) -> QuerySet[Case]:
    return Case.objects.filter(created_at__gt=now - timedelta(days=days), created_at__lte=now).exclude(
        status=Status.VOID
    )


def _grid_places(grid_ids: Iterable[int]) -> dict[int, Grid]:
    return {
        g.pk: g
        for g in Grid.objects.filter(pk__in=set(grid_ids)).only(
            "id", "name", "village_id", "town_id", "county_id"
        )
    }


def _disputes(now: datetime) -> list[Finding]:
    conf = settings.DUALGRID
    days = conf["WARNING_WINDOW_DAYS"]
    rows = list(
        _recent(now, days)
        .filter(category__code__startswith=conf["WARNING_DISPUTE_PREFIX"], grid__isnull=False)
        .values_list("grid_id", "id")
    )
    by_grid: dict[int, list[int]] = defaultdict(list)
    for grid_id, case_id in rows:
        by_grid[grid_id].append(case_id)
    thresholds = conf["WARNING_DISPUTE_LEVELS"]
    grids = _grid_places(g for g, ids in by_grid.items() if len(ids) >= thresholds[0])
    return [
        Finding(
            rule=WarningRule.DISPUTES,
            key=f"grid:{grid.pk}",
            cases=by_grid[grid.pk],
            reason=f"{grid.name}近{days}天发生矛盾纠纷{{n}}起（黄/橙/红阈值 {'/'.join(map(str, thresholds))} 起）",
            thresholds=thresholds,
            grid_id=grid.pk,
            village_id=grid.village_id,
            town_id=grid.town_id,
            county_id=grid.county_id,
        )
        for grid in grids.values()
    ]


def _surge(now: datetime) -> list[Finding]:
    conf = settings.DUALGRID
    days = conf["WARNING_WINDOW_DAYS"]
    thresholds = conf["WARNING_SURGE_LEVELS"]
    weeks = conf["WARNING_SURGE_BASELINE_WEEKS"]
    factor = conf["WARNING_SURGE_FACTOR"]
    # Disputes have their own rule; counting them here too would raise two warnings on one set of cases.
    window = (
        _recent(now, days)
        .filter(grid__isnull=False, category__isnull=False)
        .exclude(category__code__startswith=conf["WARNING_DISPUTE_PREFIX"])
    )
    counts = Counter(
        {
            (row["grid_id"], row["category_id"]): row["n"]
            for row in window.values("grid_id", "category_id").annotate(n=Count("id")).order_by()
            if row["n"] >= thresholds[0]
        }
    )
    if not counts:
        return []
    window_start = now - timedelta(days=days)
    baseline_rows = (
        Case.objects.filter(
            created_at__gt=window_start - timedelta(weeks=weeks),
            created_at__lte=window_start,
            grid_id__in={g for g, _ in counts},
            category_id__in={c for _, c in counts},
        )
        .exclude(status=Status.VOID)
        .values("grid_id", "category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    # The baseline is per window length, so a 7-day window compares with an average week.
    baseline = {(r["grid_id"], r["category_id"]): r["n"] * days / (weeks * 7) for r in baseline_rows}
    surging = [key for key, n in counts.items() if n >= factor * baseline.get(key, 0.0)]
    if not surging:
        return []
    grids = _grid_places(g for g, _ in surging)
    categories = dict(Category.objects.filter(pk__in={c for _, c in surging}).values_list("pk", "name"))
    ids: dict[tuple[int, int], list[int]] = defaultdict(list)
    for grid_id, category_id, case_id in window.filter(
        grid_id__in={g for g, _ in surging}, category_id__in={c for _, c in surging}
    ).values_list("grid_id", "category_id", "id"):
        if (grid_id, category_id) in surging:
            ids[(grid_id, category_id)].append(case_id)
    findings = []
    for grid_id, category_id in surging:
        grid, average = grids[grid_id], baseline.get((grid_id, category_id), 0.0)
        ratio = f"为平时的{counts[(grid_id, category_id)] / average:.1f}倍" if average else "此前无同类事件"
        findings.append(
            Finding(
                rule=WarningRule.SURGE,
                key=f"grid:{grid_id}:cat:{category_id}",
                cases=ids[(grid_id, category_id)],
                reason=(
                    f"{grid.name}「{categories[category_id]}」近{days}天{{n}}起，"
                    f"前{weeks}周平均每{days}天{average:.1f}起，{ratio}"
                ),
                thresholds=thresholds,
                grid_id=grid_id,
                village_id=grid.village_id,
                town_id=grid.town_id,
                county_id=grid.county_id,
                category_id=category_id,
            )
        )
    return findings


def _address(now: datetime) -> list[Finding]:
    conf = settings.DUALGRID
    days = conf["WARNING_WINDOW_DAYS"]
    thresholds = conf["WARNING_ADDRESS_LEVELS"]
    groups: dict[tuple[int | None, str], list[tuple[int, str, int | None, int | None, int | None]]] = (
        defaultdict(list)
    )
    rows = (
        _recent(now, days)
        .exclude(address="")
        .values_list("id", "address", "grid_id", "village_id", "town_id", "county_id")
    )
    for case_id, address, grid_id, village_id, town_id, county_id in rows:
        normalised = normalise_address(address)
        if normalised:
            groups[(county_id, normalised)].append((case_id, address, grid_id, village_id, town_id))
    findings = []
    for (county, normalised), members in groups.items():
        if len(members) < thresholds[0]:
            continue
        address = Counter(m[1] for m in members).most_common(1)[0][0]
        # The place the most cases lie in; a grid only if they all share it.
        grids = {m[2] for m in members}
        villages = {m[3] for m in members}
        towns = {m[4] for m in members}
        findings.append(
            Finding(
                rule=WarningRule.ADDRESS,
                key=f"addr:{county or 0}:{normalised}"[:255],
                cases=[m[0] for m in members],
                reason=f"地址「{address}」近{days}天被反映{{n}}次（黄/橙/红阈值 {'/'.join(map(str, thresholds))} 次）",
                thresholds=thresholds,
                grid_id=grids.pop() if len(grids) == 1 else None,
                village_id=villages.pop() if len(villages) == 1 else None,
                town_id=towns.pop() if len(towns) == 1 else None,
                county_id=county,
                address=address[:200],
            )
        )
    return findings


RULES = (_disputes, _surge, _address)


def _owner_unit_id(finding: Finding) -> int | None:
    """The town (镇街) answers for a warning inside it; the county when the cases span towns."""
    return finding.town_id or finding.county_id


def _apply(finding: Finding, now: datetime) -> bool:
    """Raise a warning for the finding, or add its new cases to the active one. True if raised."""
    with transaction.atomic():
        active = (
            Warning.objects.select_for_update()
            .filter(rule=finding.rule, key=finding.key, status__in=ACTIVE_WARNING_STATUSES)
            .first()
        )
        if active is not None:
            known = set(active.cases.values_list("id", flat=True))
            new = [c for c in finding.cases if c not in known]
            if not new:
                return False
            active.cases.add(*new)
            count = len(known) + len(new)
            level = grade(count, finding.thresholds)
            if level is not None and LEVEL_RANK[level] > LEVEL_RANK[WarningLevel(active.level)]:
                active.level = level
            active.reason = finding.reason.format(n=count)[:500]
            active.updated_at = now
            active.save(update_fields=["level", "reason", "updated_at"])
            return False
        last = Warning.objects.filter(rule=finding.rule, key=finding.key).order_by("-raised_at").first()
        cases = finding.cases
        if last is not None:
            # After a closed warning only later cases count: the same cases never raise twice.
            latest = Case.objects.filter(pk__in=last.cases.values("id")).order_by("-created_at").first()
            if latest is not None:
                cases = list(
                    Case.objects.filter(pk__in=cases, created_at__gt=latest.created_at).values_list(
                        "id", flat=True
                    )
                )
        level = grade(len(cases), finding.thresholds)
        if level is None:
            return False
        try:
            with transaction.atomic():
                warning = Warning.objects.create(
                    rule=finding.rule,
                    key=finding.key,
                    level=level,
                    reason=finding.reason.format(n=len(cases))[:500],
                    address=finding.address,
                    category_id=finding.category_id,
                    grid_id=finding.grid_id,
                    village_id=finding.village_id,
                    town_id=finding.town_id,
                    county_id=finding.county_id,
                    owner_unit_id=_owner_unit_id(finding),
                    raised_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # another process raised it in the meantime
            return False
        warning.cases.add(*cases)
        return True


def raise_warnings(now: datetime | None = None) -> int:
    """Run every rule over the recent cases; returns how many new warnings were raised."""
    now = now or timezone.now()
    raised = 0
    for rule in RULES:
        findings = rule(now)
        known = _active_cases(findings)
        for finding in findings:
            # Most rounds find what the active warnings already hold: skip those without a write.
            if (finding.rule, finding.key) in known and known[(finding.rule, finding.key)].issuperset(
                finding.cases
            ):
                continue
            raised += _apply(finding, now)
    return raised


def _active_cases(findings: list[Finding]) -> dict[tuple[str, str], set[int]]:
    """The cases held by the active warnings of these findings' rules and places, in two queries."""
    if not findings:
        return {}
    keys = {f.key for f in findings}
    active = dict(
        Warning.objects.filter(
            rule=findings[0].rule, key__in=keys, status__in=ACTIVE_WARNING_STATUSES
        ).values_list("pk", "key")
    )
    held: dict[tuple[str, str], set[int]] = {(findings[0].rule, key): set() for key in active.values()}
    through = Warning.cases.through.objects.filter(warning_id__in=list(active)).values_list(
        "warning_id", "case_id"
    )
    for warning_id, case_id in through.iterator(chunk_size=10000):
        held[(findings[0].rule, active[warning_id])].add(case_id)
    return held


# --- reads and actions ----------------------------------------------------------------------------


def _is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def warnings_for_user(user: User) -> QuerySet[Warning]:
    """The warnings about places in the user's unit (an administrator: all)."""
    qs = Warning.objects.select_related("grid", "town", "county", "owner_unit", "owner", "category")
    if _is_admin(user):
        return qs
    if user.role not in (Role.LEADER, Role.DISPATCHER) or user.unit is None:
        return qs.none()
    return qs.filter(within_unit(user.unit) | Q(owner=user))


def warning_get_for_user(user: User, warning_id: int) -> Warning:
    warning = warnings_for_user(user).filter(pk=warning_id).first()
    if warning is None:
        raise NotFound(NOT_FOUND, code="not_found")
    return warning


def can_act(user: User, warning: Warning) -> bool:
    """The owner, or a dispatcher/administrator whose scope holds the warning; leaders only read."""
    if warning.owner_id is not None and warning.owner_id == user.pk:
        return True
    return user.role in ACTING_ROLES or bool(user.is_superuser)


def _claim(actor: User, warning_id: int, from_statuses: Iterable[str], **changes: object) -> Warning:
    warning = warning_get_for_user(actor, warning_id)
    if not can_act(actor, warning):
        raise Forbidden("您的角色只能查看预警", code="forbidden")
    # Compare-and-swap: two people pressing the button at once change it once.
    changed = Warning.objects.filter(pk=warning.pk, status__in=list(from_statuses)).update(**changes)
    if changed != 1:
        raise Conflict("预警状态已变化，请刷新后重试", code="stale")
    warning.refresh_from_db()
    return warning


def warning_acknowledge(*, actor: User, warning_id: int, now: datetime | None = None) -> Warning:
    now = now or timezone.now()
    return _claim(
        actor,
        warning_id,
        [WarningStatus.OPEN],
        status=WarningStatus.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=now,
        updated_at=now,
    )


def warning_close(*, actor: User, warning_id: int, note: str, now: datetime | None = None) -> Warning:
    note = note.strip()
    if not note:
        raise Invalid({"note": "请填写处置说明"})
    now = now or timezone.now()
    changes: dict[str, object] = {
        "status": WarningStatus.CLOSED,
        "closed_by": actor,
        "closed_at": now,
        "close_note": note[:2000],
        "updated_at": now,
    }
    warning = warning_get_for_user(actor, warning_id)
    if warning.status == WarningStatus.OPEN:  # closing unacknowledged acknowledges it too
        changes |= {"acknowledged_by": actor, "acknowledged_at": now}
    return _claim(actor, warning_id, ACTIVE_WARNING_STATUSES, **changes)
