"""Refuse oversized request bodies before Django reads them (e.g. a 200 MB "photo")."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(settings.DUALGRID["MAX_REQUEST_BYTES"])
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            message = f"上传内容过大（{length / 1048576:.0f}MB），单次提交不能超过{limit // 1048576}MB"
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "too_large", "field": "body"}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
