"""The REST API under /api/v1/ (django-ninja); OpenAPI docs at /api/v1/docs."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from dualgrid.accounts.models import User
from dualgrid.accounts.services import token_user
from dualgrid.lib.errors import DomainError, Invalid


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="dualgrid API",
    version="1",
    description="双网格综合治理平台接口。先用 POST /auth/token 取得令牌，再以 `Authorization: Bearer <token>` 调用。",
    auth=BearerToken(),
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    if isinstance(exc, Invalid):
        body["errors"] = exc.errors
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "payload", "query", "path")]
        name = ".".join(loc) or "body"
        errors.setdefault(name, err.get("msg", "无效的值"))
    first = next(iter(errors.items()), ("body", "请求无效"))
    return api.create_response(
        request,
        {
            "detail": f"字段 {first[0]} 无效：{first[1]}",
            "code": "invalid",
            "field": first[0],
            "errors": errors,
        },
        status=422,
    )


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "未登录或令牌已失效", "code": "unauthorized"}, status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc), "code": "error"}, status=exc.status_code)


api.add_router("/auth", "dualgrid.accounts.api.router")
api.add_router("/", "dualgrid.cases.api.router")
