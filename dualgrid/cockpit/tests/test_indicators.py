"""Indicator formulas on hand-computed histories (stories.py), summed from the rolled-up daily rows."""

from datetime import date

import pytest

from dualgrid.cases.tests.factories import report
from dualgrid.cockpit import figures, selectors
from dualgrid.cockpit.indicators import (
    Period,
    change,
    compute,
    display,
    display_change,
    previous,
    ratio,
    year_ago,
)
from dualgrid.cockpit.models import Level
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.cockpit.selectors import Place, place_get_for_user, root_place
from dualgrid.conftest import POINT_IN_C, Cast
from dualgrid.lib.errors import NotFound

from .stories import at, extended_reworked_unrated_case, midnight_case, rejected_case

MARCH = Period(date(2026, 3, 1), date(2026, 3, 9))


def values(place: Place, period: Period) -> dict[str, float | None]:
    return compute(selectors.totals(place, period))


@pytest.fixture
def stories(cast: Cast) -> Cast:
    midnight_case(cast)
    extended_reworked_unrated_case(cast)
    rejected_case(cast)
    rollup_events(settle_seconds=0)
    return cast


def test_indicators_over_the_three_stories(stories: Cast) -> None:
    v = values(Place(Level.COUNTY, stories.county.pk, "潼南区"), MARCH)
    # received 3 (one rejected), dispatched 2, one extension approved and its case closed in March
    # (缓办 0), closed 2 both on time, rated 2 (满意, 不满意), one rework.
    assert v["received"] == 3
    assert v["closed"] == 2
    assert v["completion_rate"] == pytest.approx(2 / 3)
    assert v["closure_rate"] == 1.0
    assert v["on_time_rate"] == 1.0
    assert v["rework_rate"] == 0.5
    assert v["deferral_rate"] == 0.5
    assert v["satisfaction_rate"] == 0.5
    assert v["basic_satisfaction_rate"] == 0.5
    assert v["avg_sign_hours"] == pytest.approx((300 + 3600) / 2 / 3600)
    assert v["avg_resolve_hours"] == pytest.approx((480 + 4 * 3600 + 2 * 3600) / 3 / 3600)


def test_a_case_crossing_midnight_is_received_one_day_and_closed_the_next(stories: Cast) -> None:
    county = Place(Level.COUNTY, stories.county.pk, "潼南区")
    first = values(county, Period(date(2026, 3, 1), date(2026, 3, 1)))
    second = values(county, Period(date(2026, 3, 2), date(2026, 3, 2)))
    assert (first["received"], first["closed"], first["completion_rate"]) == (1, 0, 0.0)
    assert first["satisfaction_rate"] is None  # nothing rated that day
    assert (second["received"], second["closed"]) == (0, 1)
    assert second["completion_rate"] is None  # 1 closed ÷ 0 received
    assert second["closure_rate"] is None  # nothing dispatched on 2 March
    assert second["satisfaction_rate"] == 1.0


def test_an_extension_still_open_at_the_end_of_the_period_leaves_the_denominator(stories: Cast) -> None:
    county = Place(Level.COUNTY, stories.county.pk, "潼南区")
    third = values(county, Period(date(2026, 3, 3), date(2026, 3, 3)))
    # 3 March: one dispatch, its extension approved and the case not closed until 7 March:
    # 应结案 1 − 缓办 1 = 0.
    assert third["closure_rate"] is None
    assert third["deferral_rate"] == 1.0
    assert third["rework_rate"] == 1.0
    assert third["satisfaction_rate"] == 0.0  # the one rating was 不满意


def test_an_unrated_auto_closed_case_counts_as_closed_but_not_as_rated(stories: Cast) -> None:
    county = Place(Level.COUNTY, stories.county.pk, "潼南区")
    seventh = selectors.totals(county, Period(date(2026, 3, 7), date(2026, 3, 7)))
    assert (seventh["closed"], seventh["auto_closed"], seventh["rated"]) == (1, 1, 0)
    assert compute(seventh)["satisfaction_rate"] is None


def test_division_by_zero_is_none_shown_as_a_dash() -> None:
    assert ratio(1, 0) is None
    assert display("rate", None) == "—"
    assert display_change("count", change("count", 3, 0)) == "—"
    assert display("rate", 0.5) == "50.0%"
    assert display_change("rate", change("rate", 0.5, 0.25)) == "+25.0个百分点"


def test_comparison_periods() -> None:
    assert previous(Period(date(2026, 3, 1), date(2026, 3, 31))) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    assert previous(Period(date(2026, 3, 1), date(2026, 3, 9))) == Period(date(2026, 2, 1), date(2026, 2, 9))
    assert previous(Period(date(2026, 3, 10), date(2026, 3, 16))) == Period(
        date(2026, 3, 3), date(2026, 3, 9)
    )
    assert previous(Period(date(2026, 1, 1), date(2026, 3, 31))) == Period(
        date(2025, 10, 1), date(2025, 12, 31)
    )
    assert year_ago(Period(date(2028, 2, 1), date(2028, 2, 29))) == Period(
        date(2027, 2, 1), date(2027, 2, 28)
    )
    assert year_ago(Period(date(2027, 2, 1), date(2027, 2, 28))) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    assert year_ago(Period(date(2026, 3, 3), date(2026, 3, 9))) == Period(date(2025, 3, 3), date(2025, 3, 9))


def test_year_on_year_and_month_on_month(stories: Cast) -> None:
    with at("2026-02-10 10:00"):
        report(stories, category="T0101")
    for day in ("2025-03-05 10:00", "2025-03-06 10:00"):
        with at(day):
            report(stories, category="T0101")
    rollup_events(settle_seconds=0)
    data = figures.figures(
        stories.leader,
        Place(Level.COUNTY, stories.county.pk, "潼南区"),
        Period(date(2026, 3, 1), date(2026, 3, 31)),
    )
    received = next(c for c in data["cards"] if c["key"] == "received")
    assert received["value"] == 3
    assert received["mom"] == pytest.approx(2.0)  # 3 against 1 in February
    assert received["yoy"] == pytest.approx(0.5)  # 3 against 2 in March 2025
    assert received["mom_display"] == "+200.0%"


def test_figures_are_limited_to_the_users_scope(stories: Cast) -> None:
    with at("2026-03-04 10:00"):
        report(stories, point=POINT_IN_C, category="T0101")
    rollup_events(settle_seconds=0)
    town_b = root_place(stories.town_dispatcher)
    assert (town_b.level, town_b.id) == (Level.TOWN, stories.town_b.pk)
    assert selectors.totals(town_b, MARCH)["received"] == 1
    assert (
        place_get_for_user(stories.town_dispatcher, f"{Level.GRID}-{stories.grid_c.pk}").name
        == "白兔村第1网格"
    )
    for token in (f"{Level.TOWN}-{stories.town_a.pk}", f"{Level.GRID}-{stories.grid_a.pk}", "0-0", "1-x"):
        with pytest.raises(NotFound):
            place_get_for_user(stories.town_dispatcher, token)
    county = root_place(stories.leader)
    assert selectors.totals(county, MARCH)["received"] == 4
    everything = root_place(stories.admin)
    assert (everything.level, selectors.totals(everything, MARCH)["received"]) == (Level.ALL, 4)
    for outsider in (stories.worker_a, stories.handler, stories.calltaker):
        with pytest.raises(NotFound):
            root_place(outsider)


def test_children_and_their_figures(stories: Cast) -> None:
    county = root_place(stories.leader)
    rows = {p.name: c["received"] for p, c in selectors.by_children(county, MARCH)}
    assert rows == {"桂林街道": 3, "群力镇": 0}
    village = place_get_for_user(stories.leader, f"{Level.VILLAGE}-{stories.village_a.pk}")
    grids = {p.name: c["received"] for p, c in selectors.by_children(village, MARCH)}
    assert grids == {"大佛社区第1网格": 2, "大佛社区第2网格": 1}


def test_changes_are_coloured_by_which_way_is_better() -> None:
    from dualgrid.cockpit.indicators import BY_KEY, change_class

    assert change_class(BY_KEY["closure_rate"], 0.05) == "better"
    assert change_class(BY_KEY["closure_rate"], -0.05) == "worse"
    assert change_class(BY_KEY["rework_rate"], 0.05) == "worse"
    assert change_class(BY_KEY["avg_resolve_hours"], -0.1) == "better"
    assert change_class(BY_KEY["received"], 0.5) == ""  # more reports is neither good nor bad
    assert change_class(BY_KEY["closure_rate"], None) == ""
    assert change_class(BY_KEY["satisfaction_rate"], -0.0001) == ""  # shown as +0.0个百分点
    assert display_change("rate", -0.0001) == "+0.0个百分点"


def test_a_city_account_sees_its_counties_summed(stories: Cast) -> None:
    from dualgrid.accounts.models import Role, User
    from dualgrid.places.models import AdminUnit, UnitLevel

    city = AdminUnit.objects.create(code="500100000000", name="重庆市", level=UnitLevel.CITY)
    AdminUnit.objects.filter(pk=stories.county.pk).update(parent=city)
    mayor = User.objects.create_user("mayor", password="pw-123456", role=Role.LEADER, unit=city)
    root = root_place(mayor)
    assert (root.name, root.county_ids) == ("重庆市", (stories.county.pk,))
    assert selectors.totals(root, MARCH)["received"] == 3
    assert [p.name for p in selectors.children(root)] == ["潼南区"]
    county = place_get_for_user(mayor, f"{Level.COUNTY}-{stories.county.pk}")
    assert [p.name for p in selectors.place_trail(mayor, county)] == ["重庆市", "潼南区"]
    assert len(selectors.grid_states(mayor, root)) == 3
