"""Build cases in any state by driving the real services, never by writing rows directly."""

from dualgrid.cases import services
from dualgrid.cases.models import Case, Status
from dualgrid.conftest import POINT_IN_A, Cast


def report(
    cast: Cast, *, point: tuple[float, float] = POINT_IN_A, category: str | None = None, **kw: object
) -> Case:
    data = services.CaseInput(
        description=str(kw.pop("description", "小区门口车辆乱停，消防通道被堵")),
        reporter_name="张大爷",
        reporter_phone=str(kw.pop("phone", "13812345678")),
        lat=point[0],
        lng=point[1],
        address="大佛社区3栋门口",
        category_code=category,
        **kw,  # type: ignore[arg-type]
    )
    case, _ = services.case_create(actor=None, data=data)
    return Case.objects.get(pk=case.pk)


def act(actor, case: Case, action: str, note: str = "说明", **params: object) -> Case:  # type: ignore[no-untyped-def]
    return services.case_transition(
        actor=actor, case_id=case.pk, action=action, version=case.version, note=note, params=params
    )


def rate(case: Case, rating: str) -> Case:
    return services.case_transition(
        actor=None, public=True, case_id=case.pk, action="rate", version=None, params={"rating": rating}
    )


def case_in_state(cast: Cast, state: str) -> Case:
    """A case in grid A, dispatched to grid A, brought to ``state`` through the workflow."""
    case = report(cast)
    if state == Status.NEW:
        return case
    case = act(cast.dispatcher, case, "accept")
    if state == Status.PENDING_DISPATCH:
        return case
    if state == Status.VOID:
        return act(cast.dispatcher, case, "reject", "重复反映")
    case = act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk)
    if state == Status.PENDING_SIGN:
        return case
    case = act(cast.worker_a, case, "sign")
    if state == Status.IN_PROGRESS:
        return case
    case = act(cast.worker_a, case, "resolve", "已劝离车辆并设置禁停标志")
    if state == Status.PENDING_VERIFY:
        return case
    case = act(cast.dispatcher, case, "verify")
    if state == Status.PENDING_RATING:
        return case
    assert state == Status.CLOSED
    return rate(case, "satisfied")
