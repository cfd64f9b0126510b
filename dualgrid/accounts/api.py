from django.http import HttpRequest
from ninja import Router, Schema

from dualgrid.lib.errors import DomainError

from .services import token_issue

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


class Unauthorized(DomainError):
    status = 401


@router.post("/token", auth=None, response=TokenOut, summary="用户名密码换取令牌")
def issue_token(request: HttpRequest, payload: TokenIn) -> dict:
    token = token_issue(username=payload.username, password=payload.password)
    if token is None:
        raise Unauthorized("用户名或密码错误", field="password", code="bad_credentials")
    return {"token": token}
