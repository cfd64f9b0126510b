"""near_duplicate: the message that repeats an open case, and the ones that do not."""

from dualgrid.triage.engine import near_duplicate, similarity

CASES = [
    (11, "幸福小区3栋下水道堵塞 3栋一单元下水道堵了，污水冒到楼道里，请尽快疏通"),
    (12, "村口路灯不亮 村口到学校那段路的路灯坏了一个星期了"),
    (13, "9社龚氏兄弟因堰塘使用又打起来了 9社龚氏兄弟因堰塘使用又打起来了"),  # prefilled from the message
]


def test_repeat_of_an_open_case_is_found() -> None:
    hit = near_duplicate("3栋一单元下水道又堵了，污水都冒到楼道里了", CASES)
    assert hit is not None and hit[0] == 11 and hit[1] >= 0.6


def test_short_repeat_is_found_in_a_longer_case() -> None:
    hit = near_duplicate("9社龚氏兄弟又在堰塘那里打起来了，快去看看", CASES)
    assert hit is not None and hit[0] == 13


def test_different_matter_is_not_a_duplicate() -> None:
    assert near_duplicate("小区门口有人乱停车，堵住了消防通道", CASES) is None
    assert near_duplicate("家里老人走失了", CASES) is None


def test_threshold_and_best_candidate() -> None:
    pool = [(1, "路灯不亮"), (2, "村口到学校那段路的路灯坏了")]
    hit = near_duplicate("村口到学校那段路的路灯坏了好几天", pool)
    assert hit is not None and hit[0] == 2
    assert near_duplicate("村口到学校那段路的路灯坏了好几天", pool, threshold=1.01) is None


def test_similarity_is_symmetric_and_bounded() -> None:
    a, b = "下水道堵了污水外溢", "污水外溢下水道堵了"
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0
    assert similarity(a, a) == 1.0
    assert similarity("好的", "好的呀") == 0.0 or similarity("好的", "好的呀") <= 1.0


def test_another_group_or_family_is_another_incident() -> None:
    """Two fights at the pond share most words (0.82) but not the 社 nor the family: not a repeat."""
    fight = [(13, CASES[2][1])]
    assert similarity("7社朱氏兄弟因堰塘放水打起来了", CASES[2][1]) >= 0.45
    assert near_duplicate("7社朱氏兄弟因堰塘放水打起来了", fight) is None
    assert near_duplicate("9社朱氏兄弟因堰塘使用又打起来了", fight) is None  # same 社, another family
    assert near_duplicate("7社龚氏兄弟因堰塘使用又打起来了", fight) is None  # same family, another 社


def test_the_same_marks_written_otherwise_or_left_out_still_repeat() -> None:
    fight = [(13, CASES[2][1])]
    assert near_duplicate("九社龚氏兄弟又在堰塘打起来了", fight) is not None
    assert near_duplicate("龚氏兄弟又在堰塘那里打起来了", fight) is not None  # no 社 named: not a conflict
    assert near_duplicate("9社龚家兄弟因堰塘使用又打起来了", fight) is not None  # no 某/氏 family


def test_another_building_unit_or_room_is_another_place() -> None:
    assert near_duplicate("幸福小区5栋一单元下水道堵了，污水冒到楼道里", CASES) is None
    assert near_duplicate("幸福小区3栋二单元下水道堵了，污水冒到楼道里", CASES) is None
    hit = near_duplicate("幸福小区３栋1单元下水道堵了，污水冒到楼道里", CASES)  # full-width 3, 1 for 一
    assert hit is not None and hit[0] == 11


def test_dates_are_not_house_numbers() -> None:
    pool = [(5, "11月3号起小区停水 11月3号起幸福小区一直停水，没有通知")]
    assert near_duplicate("11月5号了幸福小区还在停水，一直停水也没有通知", pool) is not None
