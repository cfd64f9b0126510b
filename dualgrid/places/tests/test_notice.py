"""The grid notice board (公示牌): PDF output, one page per grid, paper size, QR payload, content, scope."""

import re
import zlib
from datetime import date
from urllib.parse import unquote

from django.test import RequestFactory

from dualgrid.people.models import Assignment, Staff, StaffRole
from dualgrid.places.notice import render_notice_html, render_notice_pdf, report_url
from dualgrid.places.views import _public_base_url

from .conftest import micro_grid


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated (WeasyPrint packs page objects in object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf_objects(pdf)))


def media_box(pdf: bytes) -> tuple[float, float]:
    match = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf_objects(pdf))
    assert match is not None
    x0, y0, x1, y1 = (float(v) for v in match.groups())
    return x1 - x0, y1 - y0


def test_the_report_url_carries_the_grid_code(cast) -> None:
    url = report_url("https://grid.example.cn/", cast.grid_a)
    assert url == f"https://grid.example.cn/report/?grid={cast.grid_a.code}"


def test_a_notice_is_a_one_page_pdf(cast) -> None:
    pdf = render_notice_pdf([cast.grid_a], "A4", "https://grid.example.cn")
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1


def test_a4_and_a3_paper_sizes_are_respected(cast) -> None:
    width, height = media_box(render_notice_pdf([cast.grid_a], "A4", "https://x"))
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1
    width, height = media_box(render_notice_pdf([cast.grid_a], "A3", "https://x"))
    assert abs(width - 841.9) < 1 and abs(height - 1190.6) < 1


def test_the_notice_shows_the_grid_current_staff_with_full_phones_and_duties(cast) -> None:
    serving = Staff.objects.create(name="张建国", phone="13912345678")
    gone = Staff.objects.create(name="李已离", phone="13800000000")
    role = StaffRole.objects.get(code="full_time")
    Assignment.objects.create(staff=serving, grid=cast.grid_a, role=role, start_date=date(2020, 1, 1))
    Assignment.objects.create(
        staff=gone, grid=cast.grid_a, role=role, start_date=date(2019, 1, 1), end_date=date(2020, 1, 1)
    )
    html = render_notice_html([cast.grid_a], "A4", "https://grid.example.cn")
    assert "网格公示牌" in html and cast.grid_a.name in html and cast.grid_a.code in html
    assert "张建国" in html and "13912345678" in html and "专职网格员" in html
    assert "李已离" not in html
    assert "扫码反映问题" in html and "紧急情况请拨打 110 / 119 / 120" in html
    assert "data:image/svg+xml" in html


def test_the_village_batch_has_one_page_per_grid_without_micro_grids(cast, login) -> None:
    micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    response = login(cast.dispatcher).get(f"/places/villages/{cast.village_a.pk}/notices.pdf?size=A3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert page_count(response.content) == 2  # grid_a and grid_b; the micro-grid is left out
    assert abs(media_box(response.content)[0] - 841.9) < 1


def test_the_grid_notice_is_served_inline_with_a_chinese_filename(cast, login) -> None:
    response = login(cast.dispatcher).get(f"/places/grids/{cast.grid_a.pk}/notice.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"网格公示牌-{cast.grid_a.name}.pdf"


def test_the_public_base_url_setting_overrides_the_request_host(cast, settings) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "PUBLIC_BASE_URL": "https://public.example.cn/"}
    assert _public_base_url(RequestFactory().get("/")) == "https://public.example.cn"


def test_a_grid_outside_the_scope_is_a_404(cast, login) -> None:
    client = login(cast.town_dispatcher)
    assert client.get(f"/places/grids/{cast.grid_a.pk}/notice.pdf").status_code == 404
    assert client.get(f"/places/villages/{cast.village_a.pk}/notices.pdf").status_code == 404
    assert client.get(f"/places/villages/{cast.village_c.pk}/notices.pdf").status_code == 200


def test_a_grid_worker_prints_only_their_own_grid(cast, login) -> None:
    client = login(cast.worker_a)
    assert client.get(f"/places/grids/{cast.grid_a.pk}/notice.pdf").status_code == 200
    assert client.get(f"/places/grids/{cast.grid_b.pk}/notice.pdf").status_code == 404
    response = client.get(f"/places/villages/{cast.village_a.pk}/notices.pdf")
    assert page_count(response.content) == 1


def test_a_unit_that_is_not_a_village_is_a_404(cast, login) -> None:
    response = login(cast.admin).get(f"/places/villages/{cast.town_a.pk}/notices.pdf")
    assert response.status_code == 404
