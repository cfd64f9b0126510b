"""The admin keeps its branding and names an empty icon (no /favicon.ico 404 in the browser console)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_admin_pages_have_the_branding_and_an_icon(admin_client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/admin/", "/admin/triage/triagemodel/"):
        html = admin_client.get(path).content.decode()
        assert '<link rel="icon" href="data:,">' in html, path
        assert "双网格综合治理平台 · 配置管理" in html, path
        assert "<title>" in html and "双网格平台管理" in html, path
