from django.conf import settings
from django.http import HttpRequest

from dualgrid.accounts.models import Role
from dualgrid.watch.feed import alert_count

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
WATCH = ("watch:feed", "巡群")
PATROL = ("watch:patrol", "巡群统计")
COCKPIT = ("cockpit:index", "驾驶舱")
RANKINGS = ("cockpit:rankings", "晾晒排名")
WARNINGS = ("cockpit:warnings", "分级预警")
REPORTS = ("cockpit:reports", "每日报告")
NOTICES = ("watch:notices", "宣传推送")
OUTBOX = ("watch:outbox", "发送记录")
# Urgent group messages nobody handled in time: a red count on 巡群 for the centre and grid workers.
ALERTED_IN_NAV = {Role.DISPATCHER, Role.GRIDWORKER}
CENTRE = [
    QUEUE,
    WATCH,
    NOTICES,
    CASES,
    COCKPIT,
    RANKINGS,
    WARNINGS,
    REPORTS,
    NEW,
    GRIDS,
    COVERAGE,
    STAFF,
    RESIDENTS,
    REGISTER,
    COMPLIANCE,
    IMPORT,
]
NAV_BY_ROLE: dict[str, list[tuple[str, str]]] = {
    Role.DISPATCHER: CENTRE,
    Role.CALLTAKER: [NEW, CASES],
    Role.GRIDWORKER: [TASKS, WATCH, VISITS, CASES, ("web:case_new", "巡查上报"), GRIDS, REGISTER],
    Role.HANDLER: [TASKS, CASES],
    Role.LEADER: [
        COCKPIT,
        RANKINGS,
        WARNINGS,
        REPORTS,
        CASES,
        GRIDS,
        COVERAGE,
        RESIDENTS,
        REGISTER,
        COMPLIANCE,
        PATROL,
    ],
    Role.ADMIN: [*CENTRE, OUTBOX],
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
        if effective_role(user) in ALERTED_IN_NAV:
            context["WATCH_ALERTS"] = alert_count(user)
        context["ROLE"] = effective_role(user)
    return context
