"""Day-one triage rules: keyword lists as data, and the matcher that reads them.

The shipped rules (``DEFAULT_RULES``) seed the ``TriageRule`` table (migration 0002); from then on the
table is the truth and an administrator edits it in the admin. The engine falls back to
``DEFAULT_RULES`` only when the table cannot be read at all (no database, not migrated).

A rule has a kind, optionally a category code and an urgency, a weight and keywords:

* actionable kinds — help 求助, complaint 投诉, dispute 纠纷, hazard 安全隐患, emergency 突发事件,
  opinion 舆情苗头 — add their weight to the message's score (1.0 = enough on its own, 0.3 = a hint);
* guard kinds — chatter 闲聊, ad 广告, notice 宣传提示 — subtract theirs;
* an urgent rule makes the message actionable and 紧急 whatever else fires: missing an urgent message
  costs more than a grid worker's glance at a false alarm.

A keyword is matched as a substring of the normalised text (NFKC, lower case). ``A+B`` needs both
parts anywhere in the message. A hit of an actionable rule directly after a negation or prevention
word (没有, 不是, 谨防, 预防 … see ``NEGATIONS``) does not count: "预防溺水" is a notice, not a drowning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ACTIONABLE_KINDS = ("emergency", "hazard", "dispute", "help", "complaint", "opinion")
GUARD_KINDS = ("chatter", "ad", "notice", "news")
KIND_LABELS = {
    "help": "求助",
    "complaint": "投诉",
    "dispute": "纠纷",
    "hazard": "安全隐患",
    "emergency": "突发事件",
    "opinion": "舆情苗头",
    "": "闲聊",
    "chatter": "闲聊用语",
    "ad": "广告用语",
    "notice": "宣传提示",
    "news": "时事评论",
}
# When several actionable rules fire with the same weight, the first kind here names the message.
KIND_PRIORITY = {kind: i for i, kind in enumerate(ACTIONABLE_KINDS)}

# Words that, right before a keyword, mean the thing did not happen ("没有着火")…
NEGATIONS = ("没有", "没", "不是", "不会", "不要", "不用", "并未", "未", "别", "无")
# …and words that warn against it, up to PREVENTION_GAP characters before it ("谨防电信诈骗", "预防溺水").
PREVENTIONS = (
    "防",
    "预防",
    "防止",
    "防范",
    "谨防",
    "警惕",
    "严防",
    "远离",
    "禁止",
    "严禁",
    "杜绝",
    "避免",
    "以防",
    "识别",
    "揭秘",
    "反",
    "打击",
)
PREVENTION_GAP = 4
# The parts of an "A+B" keyword must stand within this many characters of each other.
CONJUNCTION_WINDOW = 20
# Filler that may stand between a negation and the keyword: "没有发生火灾", "不要再打架".
_FILLER = re.compile(r"(?:发生|出现|再|是|要|会|能|可以|被|有|什么|过|任何|这种|类似|人)+$")


@dataclass(frozen=True)
class RuleSpec:
    name: str
    kind: str
    keywords: tuple[str, ...]
    category_code: str = ""
    urgency: str = "normal"
    weight: float = 1.0


def _kw(text: str) -> tuple[str, ...]:
    return tuple(split_keywords(text))


def split_keywords(text: str) -> list[str]:
    """Keywords as an administrator types them: separated by new lines, commas, 、 ; or spaces."""
    parts = re.split(r"[\s,，、;；|]+", text or "")
    return [p for p in (part.strip() for part in parts) if p]


U = "urgent"

# fmt: off
DEFAULT_RULES: list[RuleSpec] = [
    # —— 紧急 (urgency lexicon): actionable and urgent whatever else fires ——
    RuleSpec("人员走失", "emergency", _kw("走失 走丢 走散 失踪 失联 寻人 寻找老人 找不到人 老人+不见了 孩子+不见了 小孩+不见了 娃+不见了 老人+找不到 孩子+找不到 小孩+找不到 一夜未归 一直没回家 至今未归"), "1504", U),
    RuleSpec("火情", "emergency", _kw("火灾 着火 起火 失火 火警 烧起来 火势 浓烟 冒烟 烧着了 打119 拨打119"), "1501", U),
    RuleSpec("溺水", "emergency", _kw("溺水 落水 掉进水 掉水里 掉河里 掉塘里 掉进河 掉进塘 淹死 被水冲走 沉下去"), "1105", U),
    RuleSpec("打架斗殴", "dispute", _kw("打架 打起来 斗殴 打人 动手了 打伤 殴打 拿刀 持刀 动刀 砍人 行凶 群殴 打群架 闹出人命 要杀"), "1001", U),
    RuleSpec("家暴", "dispute", _kw("家暴 家庭暴力"), "1002", U),
    RuleSpec("诈骗", "hazard", _kw("诈骗 被骗 骗子 骗钱 受骗 上当 刷单 安全账户 冒充 骗局 打到这个卡 打到这张卡 打到我卡 打到卡上 转到这个卡 汇到这个 房租+卡号 房租+卡上 房租+账号 房租+帐号 换了卡 换卡了 新卡号 中奖+领取 验证码+发给 验证码+告诉 etc+认证 etc+失效 积分+兑换+链接 积分+清零+链接 账户+冻结 银行卡+冻结 医保卡+冻结 社保卡+冻结 包裹+异常+退款 [长数字]+建行 [长数字]+农行 [长数字]+工行 [长数字]+工商 [长数字]+中行 [长数字]+邮政 [长数字]+银行 [长数字]+账户 [长数字]+帐户 [长数字]+户名 [长数字]+开户 [长数字]+卡号 卡号+户名"), "0902", U),
    RuleSpec("地质灾害", "hazard", _kw("塌方 滑坡 泥石流 山体 垮塌 坍塌 塌陷 倒塌 房子裂 墙裂 裂缝+房 山上+落石"), "1103", U),
    RuleSpec("燃气泄漏", "hazard", _kw("煤气泄漏 燃气泄漏 天然气泄漏 煤气味 燃气味 天然气味 闻到煤气 漏气 煤气中毒 一氧化碳 液化气+漏"), "1102", U),
    RuleSpec("触电", "hazard", _kw("触电 电线掉 电线断 电线垂 高压线+断 漏电 被电"), "1302", U),
    RuleSpec("急病伤亡", "emergency", _kw("晕倒 昏倒 昏迷 不省人事 没有呼吸 没呼吸 呼吸困难 喘不上气 心脏病+发作 心脏病+犯了 心梗 脑溢血 脑中风 抽搐 打120 叫120 拨打120 叫救护车 病危 生命垂危 快不行了 吐血 大出血 流血 中毒 受伤 摔倒 摔伤 命悬一线 危在旦夕 呼吸衰竭 意识不清 意识模糊 吸不上气 上不来气 电梯困人 困在电梯 电梯+卡住 电梯+关在 电梯+出不来"), "15", U),
    # A cry for help counts as urgent when it names who is in danger ("救救我妈妈", "高龄患者紧急求救");
    # alone, 救命/救救 are mostly exclamations on social media ("救命啊开学了", "救救孩子吧"): a hint.
    # Weight 0.9: a specific urgent rule beside it (打起来, 落水…) names the kind and the category.
    # 病情危急, 急需入院, 孕妇+住不进, 没床+发烧, 不能再失去, 需o型血 (migration 0005): pleas for a critically
    # ill person that named nobody the way the first list expects (13 of 18 紧急 misses in 2,860 decisions).
    RuleSpec("呼救", "emergency", _kw("救救+妈 救救+爸 救救+母亲 救救+父亲 救救+老人 救救+奶奶 救救+爷爷 救救+外婆 救救+外公 救救+姥姥 救救+姥爷 救救+老公 救救+老婆 救救+妻子 救救+丈夫 救救+舅 救救+姑 救救+姨 救救+朋友 救救+同事 救救+病人 救救+患者 救救+孕妇 救救+婴儿 救救+宝宝 救救+她 救救+他 救救+博主 紧急求救 求救+患者 求救+老人 求救+病人 救命+老人 救命+患者 救命+病人 帮帮+妈 帮帮+爸 帮帮+老人 帮帮+患者 熊猫血 严重+入院 严重+床位 重症+求助 重症+入院 危重+求助 病重+求助 拖不起 快来人 来人啊 来人呐 病情危急 病情危重 情况危急 危重老人 急需入院 急需住院 急需+床位 孕妇+住不进 没有病床+求 没床+求求 没床+发烧 不能再失去 救救+婆婆 救救+爹爹 救救+阿姨 救救+叔叔 救救+伯伯 急需输血 需要输血 需o型血 需a型血 需b型血 需ab型血"), "15", U, weight=0.9),
    RuleSpec("呼救（弱）", "help", _kw("救命 救救 求救 急救 救护车 高烧不退 心脏病"), "", weight=0.4),
    RuleSpec("交通事故", "emergency", _kw("车祸 撞人 被车撞 撞倒 翻车 交通事故 追尾 撞伤"), "1503", U),
    RuleSpec("洪涝", "emergency", _kw("洪水 山洪 内涝 水淹 被淹 淹了 决堤 漫堤 涨水"), "1502", U),
    RuleSpec("轻生", "emergency", _kw("跳楼 跳河 轻生 自杀 想不开 割腕 喝农药 不想活 自我了断"), "15", U),

    # —— 纠纷 ——
    RuleSpec("矛盾纠纷", "dispute", _kw("纠纷 吵架 吵起来 闹矛盾 争执 争吵 扯皮 对骂 骂人 骂街 堵门 闹事 撕扯 推搡"), "10"),
    RuleSpec("纠纷（弱）", "dispute", _kw("矛盾 讲理 评理 说理 欺负 霸占 不讲理"), "10", weight=0.5),
    RuleSpec("山林土地", "dispute", _kw("宅基地 地界 田界 山林 堰塘 占地 占了+地 抢水 放水+田 承包地 土地+争"), "1003"),
    RuleSpec("婚姻家庭", "dispute", _kw("离婚 赡养 不养老人 虐待 遗产 分家"), "1002"),
    RuleSpec("物业纠纷", "dispute", _kw("物业费 物业+不管 物业+不作为 业委会"), "1004"),
    RuleSpec("劳资纠纷", "dispute", _kw("拖欠工资 欠薪 讨薪 不发工资 工钱 工资+拖 欠+工资 农民工"), "1005"),
    RuleSpec("邻里纠纷", "dispute", _kw("邻居+吵 邻居+闹 邻居+占 邻里"), "1001"),
    RuleSpec("损害赔偿", "dispute", _kw("赔偿 赔钱 索赔 不赔"), "1006", weight=0.5),

    # —— 求助 ——
    RuleSpec("求助", "help", _kw("求助 求帮忙 帮帮忙 帮帮我 请帮忙 帮忙+找 求帮助 急需 求转发 没人管 无人管 有没有人管 没人理 打不通 没人接 无人接听 投诉无门 求助无门 走投无路 谁能帮 求解决 请求解决 希望解决 请求帮助 请社区 请政府 请领导 请相关部门"), ""),
    RuleSpec("求助（弱）", "help", _kw("怎么办 咋办 急 着急 求问 请问 到底 谁管 求求 求解答"), "", weight=0.3),
    RuleSpec("请求（弱）", "help", _kw("帮忙 帮助 麻烦 请大家 希望 能否 能不能 建议 可否"), "", weight=0.3),
    RuleSpec("咨询请求", "help", _kw("咨询 请求 申请 诉求 求解决 请尽快"), "", weight=0.6),
    RuleSpec("困难救助", "help", _kw("低保 困难户 生活困难 孤寡 五保 没饭吃 吃不上饭 残疾 瘫痪 独居老人 空巢"), "0801"),
    RuleSpec("就医求助", "help", _kw("无法就医 没法就医 不能就医 看不了病 看不上病 就医难 住不了院 住不进医院 入不了院 透析+停 透析+没 无法透析 做不了透析 化疗+停 无法化疗 发烧+怎么办 发烧+咋办 发热+怎么办 低烧+怎么办 高烧+怎么办 咳嗽+怎么办 发烧+该怎么 奶粉+快没 奶粉+没了 奶粉+买不到 尿不湿+没 断粮 没吃的了 没有吃的 没菜吃 买不到菜 家里没菜 没菜了 没有菜了"), "0702"),
    RuleSpec("就医求助（弱）", "help", _kw("孕妇 产检 待产 临产 预产期 透析 化疗 就医 急诊 基础病"), "0702", weight=0.5),
    RuleSpec("防疫求助", "help", _kw("没有床位 没床位 等床位 求床位 床位+没有 住不进 不收治 无法收治 收治不了 确诊+没人 隔离+没人 核酸+阳性 疑似+不收 发烧+不收 物资+没有 买不到+药 断药 没药"), "0702"),

    # —— 投诉 / 反映 ——
    RuleSpec("投诉举报", "complaint", _kw("投诉 举报 反映 曝光+问题 不作为 乱作为 推诿 不处理 不解决 没人处理 没解决 拖着 石沉大海"), ""),
    RuleSpec("噪声", "complaint", _kw("噪音 噪声 太吵 吵死 扰民 吵得 广场舞"), "0201"),
    RuleSpec("施工扰民", "complaint", _kw("施工+吵 施工+半夜 夜间施工 半夜施工 工地+吵"), "0104"),
    RuleSpec("大气污染", "complaint", _kw("黑烟 臭气 恶臭 异味 烧垃圾 焚烧 粉尘 扬尘 刺鼻"), "0202"),
    RuleSpec("水体污染", "complaint", _kw("排污 污水+河 偷排 河水+臭 水变黑 死鱼"), "0203"),
    RuleSpec("餐饮油烟", "complaint", _kw("油烟"), "0204"),
    RuleSpec("乱停车", "complaint", _kw("乱停 乱放 挡住+车 堵住+门 占用+车位 僵尸车 消防通道+车"), "0301"),
    RuleSpec("违法建设", "complaint", _kw("违建 违章 私搭乱建 乱搭 加层 违规搭建 违法建设 乱建"), "0101"),
    RuleSpec("小区管理", "complaint", _kw("物业 电梯+坏 电梯+停 电梯+困 门禁 小区+问题"), "0103", weight=0.5),
    RuleSpec("垃圾", "complaint", _kw("垃圾+没人 垃圾+堆 垃圾+清 垃圾+臭 乱扔 乱倒 乱堆 建筑垃圾 垃圾成山"), "1201"),
    RuleSpec("占道经营", "complaint", _kw("占道 摆摊+堵 流动摊贩"), "1202"),
    RuleSpec("犬只", "complaint", _kw("狗咬 被狗 恶犬 流浪狗 遛狗+不 狗+伤人 狗屎 狗叫"), "1205"),
    RuleSpec("供水", "complaint", _kw("停水 没水 断水 水压 自来水+黄 自来水+浑 水管+爆 水管破 爆管 漏水 水费"), "1301"),
    RuleSpec("供电", "complaint", _kw("停电 家里没电 断电 跳闸 电压+低 电费"), "1302"),
    RuleSpec("排水", "complaint", _kw("下水道 化粪池 排水 堵了 堵塞 污水+冒 污水+溢 粪水 积水 返水 反水 管网"), "1303"),
    RuleSpec("道路", "complaint", _kw("路面+坑 坑洼 烂路 路烂 路+坏了 井盖 桥+坏 修路"), "1304"),
    RuleSpec("路灯", "complaint", _kw("路灯"), "1305"),
    RuleSpec("消费价格", "complaint", _kw("乱收费 多收费 退款 不退 霸王条款 欺诈 假货 缺斤少两 涨价 收费+不合理"), "0603"),
    RuleSpec("食品安全", "complaint", _kw("食品安全 过期 变质 发霉 吃坏 食物中毒 地沟油 无证经营"), "0602"),
    RuleSpec("医疗服务", "complaint", _kw("医院+不收 医院+拒收 医院+推诿 医院+乱收费 看病难 医疗事故 误诊"), "0701"),
    RuleSpec("教育", "complaint", _kw("学校+收费 补课 乱收费+学校 入学 学位 校车"), "0402", weight=0.5),
    RuleSpec("社保", "complaint", _kw("社保 医保 养老金 退休金 公积金"), "0502", weight=0.5),
    RuleSpec("村务", "complaint", _kw("村干部 村委+不 村务 补贴+没 补偿款 征地 拆迁"), "1405", weight=0.5),
    # A service the community owes and did not deliver ("社区也没见到有人测体温", "居委预约的口罩到现在都没通知").
    RuleSpec("社区服务（弱）", "complaint", _kw("社区+没人 社区+没有人 社区+没见 社区+不管 社区+不回 居委+没 居委+不管 村委会+没 村里+没人管 没人上门 没有人上门 没人来排查 上门+没有 排查+漏 体温+漏 把我漏了 没通知 都没通知 只发+一个 只发1个 一家只发"), "1405", weight=0.5),
    RuleSpec("治安", "hazard", _kw("小偷 被偷 偷了 盗窃 撬门 撬锁 抢劫 抢包 陌生人+转悠 吸毒 赌博 传销 涉黑 黑恶"), "0901"),

    # —— 安全隐患 ——
    RuleSpec("安全隐患", "hazard", _kw("安全隐患 隐患 危房 危墙 电线老化 私拉电线 飞线 楼道+充电 电动车+充电 消防通道 灭火器 高空抛物 高空坠物 松动 脱落 悬空 摇摇欲坠 快倒了 要倒了 没有井盖 井盖+没 井盖+坏 无护栏 没有护栏 水深 野泳 下河游泳 冰面"), "11"),

    # —— 舆情苗头 ——
    RuleSpec("舆情苗头", "opinion", _kw("上访 信访 集体+去 拉横幅 横幅 维权 闹大 找媒体 曝光 发抖音 发到网上 上热搜 讨说法 要说法 联名 堵路 围堵 静坐 12345 市长热线 投诉到 告到 上电视 找记者 借助媒体"), ""),

    # —— guards: chatter, ads, notices ——
    RuleSpec("问候闲聊", "chatter", _kw("哈哈 呵呵 嘻嘻 嘿嘿 hhh 早上好 早安 午安 中午好 下午好 晚上好 晚安 大家好 新年快乐 生日快乐 节日快乐 中秋快乐 春节快乐 恭喜 谢谢 感谢 多谢 收到 好的 点赞 辛苦了 辛苦啦 加油 棒棒 可爱 红包 签到 吃了吗 在吗 哈喽 么么哒 笑死"), "", weight=0.3),
    RuleSpec("广告推销", "ad", _kw("优惠 促销 特价 折扣 打折 贷款 低息 无抵押 放款 额度 利率 月息 理财 加微信 加v 代办 招聘 诚聘 月薪 底薪 楼盘 售楼 首付 开盘 现房 回复td 退订 详询 咨询热线 咨询电话 欢迎咨询 进店咨询 来电咨询 欢迎来电 欢迎致电 报名热线 火热报名 招生 恭候 光临 莅临 活动期间 限时 名额有限 酬宾 送礼 赠送 免费体验 欢迎选购 新品 团购 专卖 微信号 qq号 店铺 本店 本公司 我公司 抢购 秒杀"), "", weight=0.8),
    RuleSpec("留电话", "ad", _kw("[手机号]"), "", weight=0.4),
    RuleSpec("时事评论", "news", _kw("意大利 美国 欧盟 欧洲 伊朗 韩国 日本 英国 法国 德国 西班牙 塞尔维亚 挪威 国外 各国 全球 世卫 世界卫生组织 外交部 大使 总统 首相 特朗普 国务院 新闻发布会 据报道 新华社 人民日报 央视 记者 通报 专家组"), "", weight=0.5),
    RuleSpec("宣传提示", "notice", _kw("温馨提示 提醒大家 友情提醒 特别提醒 宣传 知识讲座 安全教育 科普 倡议书 致家长 一封信 防溺水 六不 公告 通告 转发+周知"), "", weight=0.8),
]
# fmt: on


@dataclass(frozen=True)
class Rule:
    """A rule ready to match: keyword alternatives, each a tuple of terms that must all occur."""

    id: int | None
    name: str
    kind: str
    category_code: str
    urgency: str
    weight: float
    alternatives: tuple[tuple[str, ...], ...]
    displays: tuple[str, ...]  # each alternative as written, for the reasons

    @property
    def is_guard(self) -> bool:
        return self.kind in GUARD_KINDS


@dataclass(frozen=True)
class Hit:
    rule: Rule
    keyword: str  # as written in the rule


@dataclass
class Match:
    hits: list[Hit] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)  # "没有着火" — shown in the reasons


def normalize_keyword(keyword: str) -> str:
    from .features import normalize

    return normalize(keyword).replace(" ", "")


class RuleSet:
    """All active rules compiled into one regular expression.

    The expression is a lookahead alternation of every keyword term, longest first, so one scan
    finds, at each position, the longest term starting there; every shorter term starting at the
    same position is a prefix of it, and ``_prefixes`` maps a found term to all of them.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = [r for r in rules if r.alternatives]
        terms = {term for rule in self.rules for alt in rule.alternatives for term in alt}
        ordered = sorted(terms, key=lambda t: (-len(t), t))
        self._pattern = re.compile("(?=(" + _trie_pattern(ordered) + "))") if ordered else None
        self._prefixes = {t: [p for p in ordered if t.startswith(p)] for t in ordered}
        self._uses: dict[str, list[tuple[int, int]]] = {}
        for ri, rule in enumerate(self.rules):
            for ai, alt in enumerate(rule.alternatives):
                for term in alt:
                    self._uses.setdefault(term, []).append((ri, ai))

    @classmethod
    def from_specs(cls, specs: Iterable[RuleSpec]) -> RuleSet:
        return cls(
            compile_rule(None, s.name, s.kind, s.category_code, s.urgency, s.weight, s.keywords)
            for s in specs
        )

    def match(self, text: str) -> Match:
        """The rules that fire on an already normalised text."""
        result = Match()
        if self._pattern is None or not text:
            return result
        found: dict[str, list[int]] = {}  # term → starts not negated
        anywhere: dict[str, list[int]] = {}  # term → all starts (guards ignore negation)
        negated: dict[str, str] = {}
        for m in self._pattern.finditer(text):
            start = m.start()
            neg: str | None = None
            for term in self._prefixes[m.group(1)]:
                anywhere.setdefault(term, []).append(start)
                if neg is None:
                    neg = _negation_before(text, start)
                if neg and any(not self.rules[ri].is_guard for ri, _ in self._uses[term]):
                    negated.setdefault(term, neg + term)
                    continue
                found.setdefault(term, []).append(start)
        if not anywhere:
            return result
        # Only the alternatives that use a term found here can fire: look at those, in rule order.
        candidates: dict[int, set[int]] = {}
        for term in anywhere:
            for ri, ai in self._uses[term]:
                candidates.setdefault(ri, set()).add(ai)
        for ri in sorted(candidates):
            rule = self.rules[ri]
            where = anywhere if rule.is_guard else found
            for ai in sorted(candidates[ri]):
                if _together(rule.alternatives[ai], where):
                    result.hits.append(Hit(rule, rule.displays[ai]))
                    break
        result.negated = [v for k, v in negated.items() if k not in found]
        return result


def _trie_pattern(terms: Iterable[str]) -> str:
    """One alternation for many terms, shaped as a trie ("燃气(?:泄漏)?|走(?:失|丢)") so the regex engine
    branches on each character instead of trying every term at every position; longest match first."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return build(trie)


def _together(terms: tuple[str, ...], where: dict[str, list[int]]) -> bool:
    """All terms occur, and for "A+B" rules within CONJUNCTION_WINDOW characters of the first one."""
    if not all(t in where for t in terms):
        return False
    if len(terms) == 1:
        return True
    first, rest = terms[0], terms[1:]
    return any(
        all(any(abs(q - p) <= CONJUNCTION_WINDOW for q in where[t]) for t in rest) for p in where[first]
    )


def _negation_before(text: str, start: int) -> str:
    """The negation or prevention phrase right before ``start`` ("" if none), as it stands in the text."""
    if start == 0:
        return ""
    before = text[max(0, start - 8) : start]
    stripped = _FILLER.sub("", before)
    for neg in NEGATIONS:
        if stripped.endswith(neg):
            return before[len(stripped) - len(neg) :]
    window = _CLAUSE_BREAK.split(text[max(0, start - PREVENTION_GAP - 2) : start])[-1]
    for word in _PREVENTIONS_LONGEST_FIRST:
        at = window.rfind(word)
        # A one-character word (防, 反) counts only right before the keyword: "消防规定" is no warning.
        if at >= 0 and len(window) - at - len(word) <= (PREVENTION_GAP if len(word) > 1 else 0):
            return window[at:]
    return ""


_PREVENTIONS_LONGEST_FIRST = sorted(PREVENTIONS, key=len, reverse=True)
_CLAUSE_BREAK = re.compile(r"[^0-9a-z\u3400-\u9fff\uf900-\ufaff]")


def compile_rule(
    rule_id: int | None,
    name: str,
    kind: str,
    category_code: str,
    urgency: str,
    weight: float,
    keywords: Iterable[str],
) -> Rule:
    alternatives: list[tuple[str, ...]] = []
    displays: list[str] = []
    for keyword in keywords:
        terms = tuple(t for t in (normalize_keyword(p) for p in keyword.split("+")) if t)
        if terms:
            alternatives.append(terms)
            displays.append(keyword.strip())
    return Rule(
        id=rule_id,
        name=name,
        kind=kind,
        category_code=category_code or "",
        urgency=urgency or "normal",
        weight=float(weight),
        alternatives=tuple(alternatives),
        displays=tuple(displays),
    )
