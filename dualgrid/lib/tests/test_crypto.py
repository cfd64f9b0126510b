"""Personal data is encrypted at rest, searchable by keyed hash, and keys rotate."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from dualgrid.cases.models import Case
from dualgrid.cases.selectors import case_list
from dualgrid.cases.tests.factories import report
from dualgrid.lib import crypto


@pytest.fixture
def keys(monkeypatch):  # type: ignore[no-untyped-def]
    def use(*k: str) -> None:
        monkeypatch.setenv("DUALGRID_FIELD_KEYS", ",".join(k))
        crypto.reset_key_cache()

    yield use
    monkeypatch.delenv("DUALGRID_FIELD_KEYS", raising=False)
    crypto.reset_key_cache()


def raw_phone(case_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case_id])
        return cursor.fetchone()[0]


def test_the_phone_is_stored_encrypted_and_read_back_plain(cast) -> None:
    case = report(cast, phone="13812345678")
    stored = raw_phone(case.pk)
    assert stored.startswith("enc1:") and "13812345678" not in stored and "5678" not in stored
    assert Case.objects.get(pk=case.pk).reporter_phone == "13812345678"


def test_search_by_full_phone_uses_the_keyed_hash(cast) -> None:
    mine = report(cast, phone="13812345678")
    report(cast, phone="13900001111")
    assert list(case_list(cast.dispatcher, query="138 1234 5678")) == [mine]
    assert mine.reporter_phone_hash and mine.reporter_phone_hash != crypto.keyed_hash("13900001111")


def test_a_wrong_key_fails_loudly_instead_of_returning_garbage(cast, keys) -> None:
    keys(Fernet.generate_key().decode())
    case = report(cast)
    keys(Fernet.generate_key().decode())
    with pytest.raises(ValueError, match="密钥不匹配"):
        Case.objects.get(pk=case.pk)


def test_rotation_re_encrypts_with_the_new_key_and_the_old_one_can_go(cast, keys) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    case = report(cast, phone="13812345678")
    before = raw_phone(case.pk)
    keys(new, old)
    call_command("rotate_field_keys", stdout=StringIO())
    assert raw_phone(case.pk) != before
    keys(new)
    assert Case.objects.get(pk=case.pk).reporter_phone == "13812345678"


def test_values_written_before_encryption_still_read_and_get_encrypted_by_rotation(cast) -> None:
    case = report(cast, phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET reporter_phone = %s WHERE id = %s", ["13700001234", case.pk])
    assert Case.objects.get(pk=case.pk).reporter_phone == "13700001234"
    call_command("rotate_field_keys", "--rehash", stdout=StringIO())
    assert raw_phone(case.pk).startswith("enc1:")
    assert Case.objects.get(pk=case.pk).reporter_phone_hash == crypto.keyed_hash("13700001234")
