from django.conf import settings
from django.http import HttpRequest

from dualgrid.accounts.models import Role

from .lookups import effective_role

QUEUE = ("web:queue", "调度队列")
TASKS = ("web:tasks", "我的任务")
CASES = ("web:case_list", "事件列表")
NEW = ("web:case_new", "登记事件")
VISITS = ("people:visits", "本周走访")
STAFF = ("people:staff_list", "网格人员")
RESIDENTS = ("people:resident_list", "实有人口")
REGISTER = ("people:household_list", "户与场所")
COMPLIANCE = ("people:compliance", "走访统计")
GRIDS = ("places:grid_list", "网格")
COVERAGE = ("places:coverage", "一格一群")
IMPORT = ("exchange:import", "数据导入")
NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    Role.DISPATCHER: [QUEUE, CASES, NEW, GRIDS, COVERAGE, STAFF, RESIDENTS, REGISTER, COMPLIANCE, IMPORT],
    Role.CALLTAKER: [NEW, CASES],
    Role.GRIDWORKER: [TASKS, VISITS, CASES, ("web:case_new", "巡查上报"), GRIDS, REGISTER],
    Role.HANDLER: [TASKS, CASES],
    Role.LEADER: [CASES, GRIDS, COVERAGE, RESIDENTS, REGISTER, COMPLIANCE],
    Role.ADMIN: [QUEUE, CASES, NEW, GRIDS, COVERAGE, STAFF, RESIDENTS, REGISTER, COMPLIANCE, IMPORT],
}


def site(request: HttpRequest) -> dict[str, object]:
    context: dict[str, object] = {
        "SITE_NAME": settings.DUALGRID["SITE_NAME"],
        "TILE_URL": settings.DUALGRID["TILE_URL"],
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["NAV"] = NAV_BY_ROLE.get(effective_role(user), [CASES])
        context["ROLE_LABEL"] = Role(effective_role(user)).label
        context["ROLE"] = effective_role(user)
    return context
