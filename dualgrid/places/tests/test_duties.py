"""Duties: the eight standard ones by default, a grid's own list, approval before they count."""

import pytest

from dualgrid.accounts.models import AuditEntry
from dualgrid.lib.errors import Forbidden
from dualgrid.places.defaults import STANDARD_DUTIES
from dualgrid.places.models import Duty, GridTier, TierDuty
from dualgrid.places.selectors import approved_duties, grid_duties, grid_pending_duties
from dualgrid.places.services import duty_approve

from .conftest import micro_grid

STANDARD_NAMES = [name for _, name in STANDARD_DUTIES]


def test_the_eight_standard_duties_are_shipped_approved(db) -> None:
    duties = Duty.objects.filter(standard=True).order_by("sort")
    assert [d.name for d in duties] == STANDARD_NAMES
    assert all(d.approved for d in duties)


@pytest.mark.parametrize("tier", GridTier.values)
def test_every_tier_defaults_to_the_eight_standard_duties(db, tier) -> None:
    assert [
        td.duty.name for td in TierDuty.objects.filter(tier=tier).order_by("duty__sort")
    ] == STANDARD_NAMES


def test_a_grid_without_its_own_list_has_its_tier_defaults(cast) -> None:
    assert [d.name for d in grid_duties(cast.grid_a)] == STANDARD_NAMES


def test_a_tier_default_list_change_reaches_its_grids_only(cast) -> None:
    micro = micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    TierDuty.objects.filter(tier=GridTier.MICRO, duty__code="D06").delete()
    assert "代办帮办" not in [d.name for d in grid_duties(micro)]
    assert "代办帮办" in [d.name for d in grid_duties(cast.grid_a)]


def test_a_grid_list_of_its_own_overrides_the_tier(cast) -> None:
    cast.grid_a.duties.set(Duty.objects.filter(code__in=["D01", "D04"]))
    assert [d.name for d in grid_duties(cast.grid_a)] == ["政策宣传", "安全隐患排查"]
    assert len(grid_duties(cast.grid_b)) == 8


def test_a_new_duty_does_not_count_until_approved(cast) -> None:
    patrol = Duty.objects.create(code="X01", name="河道巡查", sort=20)
    TierDuty.objects.create(tier=GridTier.GENERAL, duty=patrol)
    cast.grid_b.duties.set([patrol, Duty.objects.get(code="D01")])
    assert patrol not in approved_duties()
    assert "河道巡查" not in [d.name for d in grid_duties(cast.grid_a)]
    assert [d.name for d in grid_duties(cast.grid_b)] == ["政策宣传"]
    assert grid_pending_duties(cast.grid_b) == [patrol]

    assert duty_approve(actor=cast.admin, duty_ids=[patrol.pk]) == 1

    assert patrol in approved_duties()
    assert "河道巡查" in [d.name for d in grid_duties(cast.grid_a)]
    assert [d.name for d in grid_duties(cast.grid_b)] == ["政策宣传", "河道巡查"]


def test_approving_writes_an_audit_row_once(cast) -> None:
    patrol = Duty.objects.create(code="X01", name="河道巡查")
    duty_approve(actor=cast.admin, duty_ids=[patrol.pk])
    assert duty_approve(actor=cast.admin, duty_ids=[patrol.pk]) == 0
    rows = AuditEntry.objects.filter(action="duty_approve", object_id=str(patrol.pk))
    assert rows.count() == 1 and rows.get().user == cast.admin
    patrol.refresh_from_db()
    assert patrol.approved and patrol.approved_at is not None


def test_only_an_administrator_may_approve(cast) -> None:
    patrol = Duty.objects.create(code="X01", name="河道巡查")
    with pytest.raises(Forbidden):
        duty_approve(actor=cast.dispatcher, duty_ids=[patrol.pk])
    patrol.refresh_from_db()
    assert not patrol.approved


def test_the_admin_action_approves(cast, login) -> None:
    cast.admin.is_staff = True
    cast.admin.is_superuser = True
    cast.admin.save()
    patrol = Duty.objects.create(code="X01", name="河道巡查")
    resp = login(cast.admin).post(
        "/admin/places/duty/", {"action": "approve", "_selected_action": [patrol.pk]}, follow=True
    )
    assert "已批准 1 项职责事项" in resp.content.decode()
    assert Duty.objects.get(pk=patrol.pk).approved
