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
