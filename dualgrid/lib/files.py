"""Serving uploaded files that are personal data (photos of people, homes, incidents).

Uploads are never served from a public /media/ path: each is handed out by a view that has checked
the reader's scope first, through :func:`private_file_response`.
"""

from __future__ import annotations

import mimetypes

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def private_file_response(field_file: FieldFile | None) -> FileResponse:
    """The file of an already-authorised record; 404 when it is gone from storage."""
    if not field_file or not field_file.name:
        raise Http404("文件不存在")
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    suffix = "." + field_file.name.rsplit(".", 1)[-1].lower() if "." in field_file.name else ""
    content_type = (
        IMAGE_TYPES.get(suffix) or mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    )
    response = FileResponse(handle, content_type=content_type)
    # Browsers may keep it, shared caches may not; and never sniff it into something executable.
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
