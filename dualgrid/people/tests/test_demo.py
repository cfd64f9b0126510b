"""The demo people loader: every grid staffed with valid ID numbers, visits by serving accounts, and
a reset that removes it all again."""

import io
import random

from dualgrid.accounts.models import Role, User
from dualgrid.demo import people as demo_people
from dualgrid.lib.idcard import is_valid_id
from dualgrid.people.models import Assignment, Resident, Staff, Visit
from dualgrid.people.selectors import current_staff


def test_the_demo_staffs_every_grid_and_keeps_access_in_step(cast) -> None:
    for grid in (cast.grid_a, cast.grid_b, cast.grid_c):
        User.objects.create_user(f"wg{grid.code}", role=Role.GRIDWORKER).grids.add(grid)
    demo_people.load(random.Random(1), io.StringIO(), residents=300)
    for grid in (cast.grid_a, cast.grid_b, cast.grid_c):
        roles = {a.role.code for a in current_staff(grid)}
        assert {"grid_leader", "full_time"} <= roles
        worker = User.objects.get(username=f"wg{grid.code}")
        assert worker.staff.assignments.get().grid == grid
        assert list(worker.grids.all()) == [grid]
    assert Resident.objects.exists()
    assert all(is_valid_id(r.id_number) for r in Resident.objects.all())
    assert all(is_valid_id(s.id_number) for s in Staff.objects.all())
    assert Visit.objects.exists()
    for visit in Visit.objects.select_related("visitor"):
        assert visit.visitor.username.startswith("wg")


def test_reset_removes_the_people_data(cast) -> None:
    demo_people.load(random.Random(2), io.StringIO(), residents=60)
    demo_people.reset()
    assert not Staff.objects.exists() and not Assignment.objects.exists() and not Resident.objects.exists()
