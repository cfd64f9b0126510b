"""The tokeniser: rjieba (jieba-rs) must cut text exactly as jieba does.

Saved models were trained on words cut by jieba (precise mode, no HMM), and imported histories come
pre-tokenised by jieba (``{"tokens": …}``): a tokeniser that cut differently would quietly feed the
models words they never saw. rjieba replaced jieba for speed (ten times faster, 0.1 s to load); this
keeps the two honest against each other on the kinds of text the platform reads.
"""

from __future__ import annotations

import logging

import pytest

from dualgrid.triage import features

TEXTS = [
    "小区3#楼地下室漏水好几天了，物业一直没人来修，麻烦网格员帮忙协调一下",
    "我家老人早上出门到现在还没回来，穿蓝色外套，有看到的请联系13800138000",
    "河边有小孩在游泳，水很深，太危险了！！",
    "楼下烧烤店油烟太大，晚上十一点还在营业，噪音扰民",
    "收到短信说医保卡被冻结，要转账到安全账户6222020200112233445，是不是诈骗？",
    "今天天气不错，大家周末愉快😊",
    "哈哈哈哈，谢谢群主的红包",
    "请问新冠疫苗第三针在哪里打？社区卫生服务中心还有号吗",
    "两家人因为鱼塘边界吵起来了，快打起来了，快来人",
    "山体滑坡把路堵了，车过不去，求救",
    "路灯坏了一个月没人管，晚上走路黑漆漆的",
    "垃圾分类点太臭了，夏天苍蝇很多，建议每天清运两次",
    "WiFi密码是多少？@群主",
    "转发：【防溺水】珍爱生命，预防溺水，不私自下水游泳",
    "电动车在楼道里充电，万一着火怎么办",
    "拖欠工资三个月了，老板跑了，农民工怎么办",
    "Covid-19 核酸检测 8:00-11:30 在村委会门口",
    "隔壁装修从早上七点开始电钻，孩子没法上网课",
    "燃气管道好像漏气了，闻到一股味道",
    "救救我妈妈，熊猫血急需！！！",
    "",
    "   ",
    "。。。！！！",
]


def test_words_drop_punctuation_emoji_and_spaces() -> None:
    assert features.words("  漏水了！！😊  ") == ["漏水", "了"]
    assert features.words("") == []
    assert features.words(None) == []
    assert features.to_doc("路灯坏了。") == "路灯 坏 了"


def test_phone_and_long_numbers_become_placeholders_before_cutting() -> None:
    # The brackets are punctuation: the placeholder's words remain.
    assert features.to_doc("联系13800138000，卡号6222020200112233445") == "联系 手机号 卡号 长 数字"


@pytest.mark.parametrize(
    "text",
    [
        "工商银行卡号6222---0212_3456_7890。名字张三。帮我转下",
        "开户行：中国工商银行，帐号，6222，0212，3456，7890，123，李四",
        "建行账号:6222  0212   3456 7890  123  户名王五",
        "农行xxxx..xxxx..xxxx..xxxx..xxx",
        "卡号 6222-0212-3456-7890-123",
    ],
)
def test_a_card_number_typed_in_groups_is_a_long_number(text: str) -> None:
    assert features.LONG_NUMBER in features.normalize(text)


@pytest.mark.parametrize(
    "text",
    [
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12",  # a list of small numbers
        "总价 1,000,000,000,000,000 元",  # thousands separators
        "2020.1.23 到 2020.2.14 封控",  # dates
        "电话 0571-8888 8888",  # a landline, 12 digits
        "xxxx年x月x日",
    ],
)
def test_other_runs_of_numbers_are_not_card_numbers(text: str) -> None:
    assert features.LONG_NUMBER not in features.normalize(text)


def test_rjieba_cuts_as_jieba_does() -> None:
    import jieba  # a dev dependency (pyproject [dev]) kept for this check

    jieba.setLogLevel(logging.WARNING)
    rjieba = features._tokenizer()
    for text in TEXTS:
        norm = features.normalize(text)
        assert rjieba.cut(norm, False) == jieba.lcut(norm, HMM=False), text
