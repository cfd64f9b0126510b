"""The day-one rules: what they flag, how urgent, which category, and what they leave alone."""

import pytest

from dualgrid.triage.engine import TriageResult, triage, triage_many
from dualgrid.triage.rules import DEFAULT_RULES, RuleSet, RuleSpec, split_keywords

pytestmark = pytest.mark.django_db


def test_fight_over_the_pond_is_an_urgent_dispute() -> None:
    r = triage("9社龚氏兄弟因堰塘使用又打起来了")
    assert r.actionable and r.kind == "dispute" and r.kind_label == "纠纷"
    assert r.category_code is not None and r.category_code.startswith("10")
    assert r.urgency == "urgent"
    assert "关键词“打起来”→紧急" in r.reasons
    assert "规则：纠纷（打起来）" in r.reasons
    assert r.model_version is None


def test_a_quarrel_without_blows_is_a_normal_dispute() -> None:
    r = triage("两家邻居为了宅基地的地界吵起来了")
    assert r.actionable and r.kind == "dispute" and r.urgency == "normal"
    assert r.category_code == "1003"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("家里老人走失了", "1504"),
        ("3组有户人家着火了，浓烟很大", "1501"),
        ("有个小孩掉河里了快来人", "1105"),
        ("村口山体滑坡把路堵了", "1103"),
        ("楼道里一股煤气味，好像燃气泄漏", "1102"),
        ("有人触电了", "1302"),
        ("菜市场门口一个老人晕倒了", "15"),
        ("有人持刀在小区门口闹事", "1001"),
        ("我妈被骗了两万块，说是公安局的", "0902"),
    ],
)
def test_urgency_lexicon(text: str, code: str) -> None:
    r = triage(text)
    assert r.actionable, r
    assert r.urgency == "urgent", r
    assert r.category_code == code, r
    assert r.confidence >= 0.95
    assert any(reason.endswith("→紧急") for reason in r.reasons)


def test_fraud_message_is_an_actionable_warning() -> None:
    r = triage("房东换卡了，这个月房租打到这个卡上：6222 xxxx xxxx，户名张三")
    assert r.actionable and r.kind == "hazard" and r.category_code == "0902"
    assert r.kind_label == "安全隐患"


@pytest.mark.parametrize(
    "text", ["早上好", "哈哈哈", "哈哈哈哈哈哈哈", "晚安，大家", "收到，谢谢", "生日快乐🎂", "好的"]
)
def test_chatter_is_not_flagged(text: str) -> None:
    r = triage(text)
    assert not r.actionable and r.kind == "" and r.kind_label == "闲聊"
    assert r.category_code is None and r.urgency == "normal"


@pytest.mark.parametrize(
    "text",
    [
        "低息无抵押贷款，当天放款，详询138xxxx",
        "温馨提示：暑假到了，预防溺水，家长看好孩子",
        "谨防电信诈骗，不要给陌生人转账",
        "今天没有发生火灾，大家放心",
    ],
)
def test_ads_notices_and_negations_are_not_flagged(text: str) -> None:
    r = triage(text)
    assert not r.actionable, r


def test_negation_is_shown_in_the_reasons() -> None:
    r = triage("谨防电信诈骗")
    assert any(reason.startswith("否定：") for reason in r.reasons)


def test_complaints_and_pleas_get_a_category() -> None:
    water = triage("我们小区停水三天了，没人管")
    assert water.actionable and water.category_code == "1301" and water.urgency == "normal"
    sewer = triage("楼下下水道堵了，污水冒出来了")
    assert sewer.actionable and sewer.category_code == "1303"
    noise = triage("隔壁工地半夜施工太吵了，投诉多次没用")
    assert noise.actionable and noise.kind in {"complaint", "help"}


def test_result_shape() -> None:
    r = triage("家里老人走失了")
    assert isinstance(r, TriageResult)
    assert r.kind in {"help", "complaint", "dispute", "hazard", "emergency", "opinion"}
    assert 0.0 <= r.confidence <= 1.0
    assert all(isinstance(x, str) for x in r.reasons)


def test_many_equals_one_by_one() -> None:
    texts = ["家里老人走失了", "早上好", "小区停水了没人管", "", "哈哈"]
    assert triage_many(texts) == [triage(t) for t in texts]
    assert triage_many([]) == []


def test_rules_are_data() -> None:
    rules = RuleSet.from_specs(
        [
            RuleSpec("井", "hazard", ("窨井+没盖",), "1304", "urgent"),
            RuleSpec("寒暄", "chatter", ("你好",), weight=0.3),
        ]
    )
    match = rules.match("路口窨井盖好了")
    assert not match.hits
    match = rules.match("路口那个窨井没盖")
    assert [h.keyword for h in match.hits] == ["窨井+没盖"]
    assert split_keywords("走失、走丢, 失踪\n寻人 房租+卡号") == ["走失", "走丢", "失踪", "寻人", "房租+卡号"]


def test_overlapping_keywords_all_fire() -> None:
    rules = RuleSet.from_specs(
        [RuleSpec("a", "hazard", ("燃气",)), RuleSpec("b", "hazard", ("燃气泄漏",), urgency="urgent")]
    )
    assert {h.rule.name for h in rules.match("燃气泄漏了").hits} == {"a", "b"}


def test_shipped_rules_are_well_formed() -> None:
    kinds = {
        "help",
        "complaint",
        "dispute",
        "hazard",
        "emergency",
        "opinion",
        "chatter",
        "ad",
        "notice",
        "news",
    }
    from dualgrid.cases.defaults import CATEGORY_TREE

    codes = {code for code, *_ in CATEGORY_TREE}
    for spec in DEFAULT_RULES:
        assert spec.kind in kinds, spec.name
        assert not spec.category_code or spec.category_code in codes, spec.name
        assert spec.urgency in {"urgent", "normal"}
        assert spec.keywords, spec.name


def test_admin_edit_of_a_rule_reaches_triage(settings) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.triage import engine
    from dualgrid.triage.models import TriageRule

    assert not triage("牛跑到别人家菜地里了").actionable
    TriageRule.objects.create(name="牲畜", kind="dispute", category_code="1001", keywords="牛跑、猪跑")
    engine.invalidate()
    r = triage("牛跑到别人家菜地里了")
    assert r.actionable and r.category_code == "1001"
    TriageRule.objects.filter(name="人员走失").update(active=False)
    engine.invalidate()
    assert triage("家里老人走失了").urgency == "normal"


# —— the fresh-test-set work (docs/PERFORMANCE.md): commentary, hints in long posts, medical pleas, ads ——
# Synthetic texts written here.


def test_commentary_on_other_countries_is_not_a_plea() -> None:
    assert not triage("看新闻说意大利向中国求助了").actionable
    r = triage("我们小区3栋有人发烧没人管，求助社区")
    assert r.actionable and r.kind == "help"


def test_hints_in_a_long_post_count_once() -> None:
    long_post = (
        "今天又刷了一整天的新闻，心里很乱，不知道这个冬天什么时候才能过去，也不知道大家都怎么办，"
        "只希望所有人平平安安，早日回到正常的生活，到时候一起去吃火锅，去看樱花，去海边走一走，"
        "把这段时间错过的都补回来。"
    )
    assert len(long_post) > 80
    r = triage(long_post)
    assert not r.actionable
    # In a short message the same hints still add up.
    assert triage("请问停水了怎么办").actionable


@pytest.mark.parametrize(
    "text",
    [
        "我妈要做透析，小区封了出不去，医院也停了透析，怎么办",
        "家里孩子发烧两天了，医院进不去，我该怎么办",
        "宝宝奶粉快没了，封在家里买不到，求帮忙",
        "孕妇快到预产期了，产检一直约不上，无法就医",
    ],
)
def test_medical_and_supplies_pleas_are_help(text: str) -> None:
    r = triage(text)
    assert r.actionable and r.kind == "help", r.reasons


def test_an_advert_inviting_enquiries_is_not_a_consultation() -> None:
    assert not triage("寒假数学英语辅导班火热报名中，欢迎咨询王老师").actionable
    assert triage("咨询一下，孩子入学的户口证明去哪里开").actionable


def test_phishing_patterns_are_urgent_fraud() -> None:
    r = triage("【银行】您的银行卡已被冻结，请点击链接并把验证码告诉客服解冻")
    assert r.actionable and r.urgency == "urgent" and r.category_code == "0902"


def test_a_card_number_typed_in_groups_with_a_name_is_an_urgent_scam() -> None:
    """The account number of a transfer scam as people type it: groups, several separators, a name."""
    r = triage("建行，6222，0212，3456，7890，123，彭某")
    assert r.actionable and r.urgency == "urgent" and r.category_code == "0902", r.reasons


def test_a_confident_model_outvotes_one_strong_word_not_two() -> None:
    from dualgrid.triage import engine

    pre = engine._pre("投诉一下今天的天气", engine._defaults())
    assert pre.score == pytest.approx(1.0)
    clipped = min(max(engine._logit(0.0001), -engine.MODEL_LOGIT_CLIP), engine.MODEL_LOGIT_CLIP)
    assert clipped + engine.RULE_LOGIT * 1.0 < 0 < clipped + engine.RULE_LOGIT * 1.3


@pytest.mark.parametrize(
    "text",
    [
        "救命啊开学我是不是就直接大三了",
        "救救孩子吧，网课太难了",
        "这是救命的物资，希望用到该用的地方",
        "记者在急救中心门口采访",
        "病床紧张的时候大家要互相理解",  # a bed shortage talked about, nobody in danger named
    ],
)
def test_a_cry_that_names_nobody_is_not_urgent(text: str) -> None:
    """救命/救救 alone are mostly exclamations on social media: a hint at most, never 紧急 on their own."""
    r = triage(text)
    assert r.urgency == "normal"
    assert not any(reason.endswith("→紧急") for reason in r.reasons)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("求求大家帮帮我，救救我妈妈，她住不进医院", "救救+妈"),
        ("86岁老人至今无法入院，紧急求救！", "紧急求救"),
        ("八旬老人急需A型RH阴性血，俗称熊猫血", "熊猫血"),
        ("快来人啊，有人晕倒在楼道里", "快来人"),
        ("救命！老人在家喘不上气了", "救命+老人"),
        # Pleas for a critically ill person without the words above (migration 0005).
        ("3栋的张老师病情危急，已经确诊，谁能帮忙联系医院", "病情危急"),
        ("楼上的肾衰老人急需入院，社区能不能帮忙", "急需入院"),
        ("邻居家孕妇快生了，住不进医院，大家帮帮忙", "孕妇+住不进"),
        ("医院说还是没床，我爸一直发烧到39度", "没床+发烧"),
        ("我已经没了爸爸，不能再失去妈妈了", "不能再失去"),
        ("求求社区救救对门的婆婆吧，老伴刚走", "救救+婆婆"),
        ("他说想自我了断，电话也不接了", "自我了断"),
        ("楼上王阿姨住院了，急需输血，有O型血的邻居吗", "急需输血"),
        ("老人胸闷吸不上气，医院不收", "吸不上气"),
        ("5单元电梯卡住了，里面有人出不来", "电梯+卡住"),
        ("我被困在电梯里了，谁帮忙打个电话", "困在电梯"),
    ],
)
def test_a_cry_for_help_that_names_who_is_in_danger_is_urgent(text: str, keyword: str) -> None:
    r = triage(text)
    assert r.actionable and r.urgency == "urgent"
    assert f"关键词“{keyword}”→紧急" in r.reasons


def test_a_service_the_community_did_not_deliver_is_a_complaint_hint() -> None:
    """社区服务（弱） weighs 0.5: with a request it makes a complaint; alone it is shown but not enough."""
    r = triage("小区没人上门排查，我要投诉")
    assert r.actionable and r.kind == "complaint"
    assert "规则：投诉（没人上门）" in r.reasons and "规则：投诉（投诉）" in r.reasons
    alone = triage("居委的口罩到现在都没通知")
    assert "规则：投诉（居委+没）" in alone.reasons
    assert not alone.actionable  # 0.5 < the rules' threshold 0.6 (a model or another word decides)


def test_a_specific_urgent_rule_names_the_kind_beside_a_cry_for_help() -> None:
    r = triage("9社龚氏兄弟因堰塘使用又打起来了，快来人")
    assert r.urgency == "urgent" and r.kind == "dispute" and r.category_code == "1001"
    assert "关键词“快来人”→紧急" in r.reasons and "关键词“打起来”→紧急" in r.reasons
