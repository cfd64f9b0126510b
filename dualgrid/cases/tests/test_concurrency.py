"""Two people act on the same case at once: one wins, the other gets a conflict, nothing is lost."""

import threading

import pytest
from django.db import connection

from dualgrid.cases import services
from dualgrid.cases.models import Case, Status
from dualgrid.cases.tests.factories import case_in_state
from dualgrid.lib.errors import Conflict


@pytest.mark.django_db(transaction=True)
def test_simultaneous_dispatch_and_reject_one_wins(cast) -> None:
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(action: str, **params: object) -> None:
        barrier.wait()
        try:
            services.case_transition(
                actor=cast.dispatcher,
                case_id=case.pk,
                action=action,
                version=case.version,
                note="并发测试",
                params=params,
            )
            results.append(f"won:{action}")
        except Conflict as exc:
            results.append(f"conflict:{exc.code}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=("dispatch",), kwargs={"grid_id": cast.grid_a.pk}),
        threading.Thread(target=attempt, args=("reject",)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "won"]
    assert [r for r in results if r.startswith("conflict")] == ["conflict:stale_version"]
    stored = Case.objects.get(pk=case.pk)
    assert stored.version == case.version + 1
    assert stored.events.exclude(action__in=["create", "accept"]).count() == 1
