"""Odd input never raises and gives a sensible answer."""

import time

import pytest

from dualgrid.triage.engine import near_duplicate, triage, triage_many

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\u200b",
        "😀😂🙏🙏🙏",
        "👍",
        "[图片]",
        "Hello everyone, good morning!",
        "老人 lost 了？ help!!! 🆘",
        "ราตรีสวัสดิ์ 晚安",
        "مرحبا",
        "ｆｕｌｌｗｉｄｔｈ　全角　字符",
        "\ud800 lone surrogate",
        "𠀀𠀁𪚥 rare CJK",
    ],
)
def test_odd_text(text: str) -> None:
    r = triage(text)
    assert r.urgency in {"urgent", "normal"}
    assert 0.0 <= r.confidence <= 1.0


def test_empty_and_emoji_are_chatter() -> None:
    assert not triage("").actionable
    assert not triage("😀😂🙏").actionable
    assert triage("").reasons == ["空消息"]


def test_non_strings_do_not_raise() -> None:
    results = triage_many([None, 123, b"bytes", ["list"]])  # type: ignore[list-item]
    assert len(results) == 4


def test_twenty_thousand_characters_fast() -> None:
    long = "今天天气不错，" * 3000  # 21,000 characters
    start = time.perf_counter()
    r = triage(long + "老人走失了")
    assert time.perf_counter() - start < 2.0
    assert r.urgency in {"urgent", "normal"}  # the end of a huge paste may be cut off; no crash is the point
    assert not triage(long).actionable


def test_mixed_scripts_still_triaged() -> None:
    r = triage("Help!! 我家老人走失了 please share 🙏")
    assert r.actionable and r.urgency == "urgent"


def test_near_duplicate_odd_input() -> None:
    assert near_duplicate("", [(1, "家里老人走失了")]) is None
    assert near_duplicate("😀😀", [(1, "😀😀")]) is None
    assert near_duplicate("家里老人走失了", []) is None
    assert near_duplicate("家里老人走失了", [(1, "")]) is None
