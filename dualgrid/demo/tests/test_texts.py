"""Tests for the case-report text generator (no Django, no DB)."""

from __future__ import annotations

import random
import re
import string
from collections import Counter

import pytest

from dualgrid.demo import texts
from dualgrid.demo.texts import (
    CATEGORY_TREE,
    CHANNELS,
    REQUEST_KINDS,
    RESOLUTIONS,
    TEMPLATES,
    level2_codes,
    make_rejection_reason,
    make_report,
    make_resolution_note,
    random_name,
    random_phone,
)

PHONE_RE = re.compile(r"1[3-9]\d{9}")
PLACES = ("群力镇白兔村", "桂林街道大佛社区", "梓潼社区", "柏梓镇中渡村", "双江社区")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_category_tree_shape() -> None:
    codes = [c for c, _, _, _ in CATEGORY_TREE]
    assert len(codes) == len(set(codes))
    names = [n for _, n, _, _ in CATEGORY_TREE]
    assert len(names) == len(set(names))
    top = [c for c, _, p, _ in CATEGORY_TREE if p is None]
    assert 12 <= len(top) <= 18
    assert 50 <= len(level2_codes()) <= 80
    by_code = {c: (n, p, k) for c, n, p, k in CATEGORY_TREE}
    for code, (_, parent, kind) in by_code.items():
        assert kind in REQUEST_KINDS
        if parent is None:
            assert re.fullmatch(r"\d{2}", code)
            assert level2_codes(code), f"{code} has no children"
        else:
            assert re.fullmatch(r"\d{4}", code) and code[:2] == parent and parent in by_code
    top_names = {by_code[c][0] for c in top}
    for required in ("城乡建设", "环境保护", "交通运输", "矛盾纠纷", "安全隐患", "市容环境", "突发事件"):
        assert required in top_names
    dispute_children = {by_code[c][0] for c in level2_codes("10")}
    assert {"邻里纠纷", "婚姻家庭", "山林土地", "物业纠纷"} <= dispute_children


def test_every_category_has_templates_that_render() -> None:
    rng = random.Random(0)
    assert set(TEMPLATES) == set(level2_codes())
    for code in level2_codes():
        templates = TEMPLATES[code]
        assert len(templates) >= 4, code
        for setting, title, body in templates:
            assert setting in ("u", "r", "a")
            assert title and body
            for place in ("群力镇白兔村", "桂林街道大佛社区"):
                slots = texts._slots(rng, place)
                assert _fields(title) | _fields(body) <= set(slots), (code, title)
                rendered = body.format_map(slots)
                assert "{" not in rendered and "}" not in rendered


@pytest.mark.parametrize("place", PLACES)
def test_make_report_for_every_category(place: str) -> None:
    rng = random.Random(42)
    for code in level2_codes():
        for _ in range(5):
            r = make_report(rng, code, place)
            assert r.title.strip() and len(r.title) <= 30
            assert len(r.description) >= 10
            assert "{" not in r.description and "}" not in r.description
            assert PHONE_RE.fullmatch(r.reporter_phone), r.reporter_phone
            assert 2 <= len(r.reporter_name) <= 4
            assert r.address.startswith(place)
            assert r.channel in CHANNELS


def test_rural_and_urban_addresses() -> None:
    rng = random.Random(1)
    rural = [make_report(rng, "1003", "群力镇白兔村") for _ in range(50)]
    assert all(re.fullmatch(r"群力镇白兔村\d+社", r.address) for r in rural)
    urban = [make_report(rng, "0301", "桂林街道大佛社区") for _ in range(50)]
    assert all(re.search(r"(栋|号)$", r.address) for r in urban)
    # A grid name as place is reduced to its village.
    r = make_report(rng, "1201", "白兔村第5网格")
    assert r.address.startswith("白兔村") and "网格" not in r.address


def test_level1_code_and_unknown_code() -> None:
    rng = random.Random(3)
    r = make_report(rng, "10", "群力镇白兔村")
    assert r.title
    with pytest.raises(KeyError):
        make_report(rng, "9999", "群力镇白兔村")
    with pytest.raises(KeyError):
        make_resolution_note(rng, "9999")


def test_channel_mix_is_realistic() -> None:
    rng = random.Random(7)
    counts = Counter(make_report(rng, "1201", "桂林街道大佛社区").channel for _ in range(3000))
    assert set(counts) == set(CHANNELS)
    assert counts.most_common(1)[0][0] == "group"
    assert counts["hotline"] < counts["patrol"]
    rng = random.Random(8)
    reports = [make_report(rng, "1303", "桂林街道大佛社区") for _ in range(400)]
    transferred = [r for r in reports if r.channel == "12345"]
    assert transferred and all(r.description.startswith("市民通过12345热线反映") for r in transferred)


def test_deterministic() -> None:
    a = [make_report(random.Random(5), c, "群力镇白兔村") for c in level2_codes()]
    b = [make_report(random.Random(5), c, "群力镇白兔村") for c in level2_codes()]
    assert a == b


def test_texts_vary() -> None:
    rng = random.Random(9)
    descs = {make_report(rng, "1001", "桂林街道大佛社区").description for _ in range(100)}
    assert len(descs) > 80


def test_phones_and_names() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        assert PHONE_RE.fullmatch(random_phone(rng))
        name = random_name(rng)
        assert 2 <= len(name) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in name)


def test_resolution_notes_and_rejections() -> None:
    rng = random.Random(13)
    assert set(RESOLUTIONS) == set(level2_codes())
    for code in level2_codes():
        assert len(RESOLUTIONS[code]) >= 2
        for _ in range(5):
            note = make_resolution_note(rng, code)
            assert len(note) >= 8 and "{" not in note
    for code in ("01", "10", "15"):
        assert make_resolution_note(rng, code)
    # With the report given, the note tends to match it.
    report = make_report(random.Random(2), "1305", "桂林街道大佛社区")
    assert make_resolution_note(rng, "1305", report)
    reasons = {make_rejection_reason(rng) for _ in range(200)}
    assert len(reasons) > 10
    assert all(r and "{" not in r for r in reasons)
