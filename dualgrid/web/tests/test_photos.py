"""Case photos are personal data: served only to staff in scope and to the resident who tracked the case."""

from django.test import Client

from dualgrid.cases.models import Case
from dualgrid.cases.tests.test_api import token_for
from dualgrid.web.tests.test_report import form


def _report_with_photo(jpeg) -> tuple[Case, str]:  # type: ignore[no-untyped-def]
    Client().post("/report/", {**form(), "photos": [jpeg("door.jpg")]})
    case = Case.objects.get()
    url = case.attachments.get().get_absolute_url()
    return case, url


def test_there_is_no_public_path_to_the_upload(cast, jpeg) -> None:  # type: ignore[no-untyped-def]
    case, url = _report_with_photo(jpeg)
    name = case.attachments.get().file.name
    assert url == f"/cases/{case.pk}/photos/{case.attachments.get().pk}/"
    assert Client().get(f"/media/{name}").status_code == 404


def test_a_stranger_gets_404_and_the_resident_who_tracked_gets_the_photo(cast, jpeg) -> None:  # type: ignore[no-untyped-def]
    case, url = _report_with_photo(jpeg)
    assert Client().get(url).status_code == 404

    resident = Client()
    page = resident.post("/track/", {"number": case.number, "last4": "5678"})
    assert url in page.content.decode()
    resp = resident.get(url)
    assert resp.status_code == 200
    assert resp["Content-Type"] == "image/jpeg"
    assert resp["Cache-Control"] == "private, max-age=86400"
    assert resp.getvalue()[:2] == b"\xff\xd8"

    guesser = Client()
    guesser.post("/track/", {"number": case.number, "last4": "0000"})
    assert guesser.get(url).status_code == 404


def test_staff_see_photos_of_cases_in_their_scope_only(cast, login, jpeg) -> None:  # type: ignore[no-untyped-def]
    case, url = _report_with_photo(jpeg)  # in grid A, town A
    assert login(cast.dispatcher).get(url).status_code == 200
    assert login(cast.town_dispatcher).get(url).status_code == 404  # town B
    other = case.attachments.get().pk + 1000
    assert login(cast.dispatcher).get(f"/cases/{case.pk}/photos/{other}/").status_code == 404


def test_the_api_lists_scoped_photo_urls_and_serves_them_with_a_token(cast, jpeg) -> None:  # type: ignore[no-untyped-def]
    case, _ = _report_with_photo(jpeg)
    client = Client()
    auth = {"Authorization": f"Bearer {token_for(client, 'dispatcher')}"}
    photos = client.get(f"/api/v1/cases/{case.pk}", headers=auth).json()["photos"]
    assert photos == [f"/api/v1/cases/{case.pk}/photos/{case.attachments.get().pk}"]
    resp = client.get(photos[0], headers=auth)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert client.get(photos[0]).status_code == 401
    town_b = {"Authorization": f"Bearer {token_for(client, 'town_b_dispatcher')}"}
    assert client.get(photos[0], headers=town_b).status_code == 404


def test_visit_photos_are_served_to_staff_of_the_grid_only(cast, login, jpeg) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from dualgrid.people.models import Resident, Visit

    resident = Resident.objects.create(name="王大爷", grid=cast.grid_a)
    visit = Visit.objects.create(
        resident=resident,
        grid=cast.grid_a,
        visitor=cast.worker_a,
        visited_at=timezone.now(),
        photo=jpeg("home.jpg"),
        found="身体好",
    )
    url = f"/people/visits/{visit.pk}/photo/"
    resp = login(cast.worker_a).get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert login(cast.worker_b).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert url in login(cast.worker_a).get(f"/people/residents/{resident.pk}/").content.decode()
