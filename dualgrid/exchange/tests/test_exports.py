"""Exports: masked by default, unmasked only for allowed roles on request, always audited."""

import io
import json

from django.urls import reverse

from dualgrid.accounts.models import AuditEntry
from dualgrid.cases.tests.factories import report
from dualgrid.exchange.xlsx import Workbook


def rows_of(content: bytes) -> list[list[object]]:
    with Workbook(io.BytesIO(content)) as book:
        return [values for _, values in book.rows(book.sheets[0])]


def test_the_case_export_masks_phones_and_writes_an_audit_row(cast, login) -> None:  # type: ignore[no-untyped-def]
    case = report(cast, phone="13812345678")
    response = login(cast.dispatcher).get(reverse("exchange:export_cases") + f"?q={case.number}")
    assert response.status_code == 200
    rows = rows_of(response.content)
    phone = rows[0].index("联系电话")
    assert rows[1][0] == case.number and rows[1][phone] == "138****5678"
    entry = AuditEntry.objects.get(action="export")
    detail = json.loads(entry.detail)
    assert entry.user == cast.dispatcher and entry.object_type == "cases.Case"
    assert detail == {"filters": {"query": case.number}, "rows": 1, "masked": True}


def test_a_dispatcher_may_ask_for_the_unmasked_export(cast, login) -> None:  # type: ignore[no-untyped-def]
    report(cast, phone="13812345678")
    response = login(cast.dispatcher).get(reverse("exchange:export_cases") + "?unmasked=1")
    rows = rows_of(response.content)
    assert "13812345678" in rows[1]
    assert json.loads(AuditEntry.objects.get(action="export").detail)["masked"] is False


def test_a_grid_worker_may_not_export_unmasked(cast, login) -> None:  # type: ignore[no-untyped-def]
    response = login(cast.worker_a).get(reverse("exchange:export_cases") + "?unmasked=1")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_export_keeps_the_users_scope_and_filters(cast, login) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.conftest import POINT_IN_C

    report(cast)
    report(cast, point=POINT_IN_C)
    rows = rows_of(login(cast.town_dispatcher).get(reverse("exchange:export_cases")).content)
    assert len(rows) == 2  # the header and the one case in town B


def test_the_resident_export_masks_id_numbers(cast, login, run_import) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from dualgrid.lib.idcard import make_id

    number = make_id("500152", date(1948, 5, 6), 11)
    run_import(
        cast.dispatcher,
        "residents",
        ["网格编码", "姓名", "身份证号", "手机号"],
        [["500152001001001", "王大爷", number, "13800001111"]],
    )
    rows = rows_of(login(cast.worker_a).get(reverse("exchange:export_residents")).content)
    header, row = rows
    assert row[header.index("身份证号")] == f"{number[:4]}**********{number[-4:]}"
    assert row[header.index("手机号")] == "138****1111"
    assert AuditEntry.objects.filter(
        action="export", object_type="people.Resident", user=cast.worker_a
    ).exists()
