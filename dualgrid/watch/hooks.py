"""HTTP endpoints the chat platforms post to. A 2xx is sent only after the batch is committed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import adapters
from .inbound import ingest
from .models import Connector, ConnectorKind


def _connector(slug: str, kind: str) -> Connector | None:
    return Connector.objects.filter(slug=slug, kind=kind, active=True).first()


def _error(exc: adapters.AdapterError) -> JsonResponse:
    body = {"detail": exc.message, "code": "unauthorized" if exc.status == 401 else "invalid"}
    if exc.field:
        body["field"] = exc.field
    return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, slug: str) -> HttpResponse:
    connector = _connector(slug, ConnectorKind.WEBHOOK)
    if connector is None:
        return JsonResponse({"detail": "未知的接入标识", "code": "not_found"}, status=404)
    body = request.body
    try:
        adapters.verify_webhook(connector, request.headers, body)
        items = adapters.parse_webhook(body)
    except adapters.AdapterError as exc:
        return _error(exc)
    result = ingest(connector, items)
    return JsonResponse(result.as_dict(), status=200)


@csrf_exempt
@require_POST
def onebot(request: HttpRequest, slug: str) -> HttpResponse:
    connector = _connector(slug, ConnectorKind.ONEBOT)
    if connector is None:
        return JsonResponse({"detail": "未知的接入标识", "code": "not_found"}, status=404)
    body = request.body
    try:
        adapters.verify_onebot(connector, request.headers, body)
        item = adapters.parse_onebot(body)
    except adapters.AdapterError as exc:
        return _error(exc)
    if item is not None:
        ingest(connector, [item])
    # OneBot treats 204 as "no quick operation": we answer through send_group_msg, never inline.
    return HttpResponse(status=204)
