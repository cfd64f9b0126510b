"""The 时事评论 guard kind, and the rules added or extended in the actionability work on the fresh test
set (docs/PERFORMANCE.md): 就医求助, 就医求助（弱）, 时事评论 are added where missing; 诈骗 and 广告推销 get
their new keywords only where an administrator has not edited them since they were seeded."""

from django.db import migrations, models

from dualgrid.triage.rules import DEFAULT_RULES

ADDED = ("就医求助", "就医求助（弱）", "时事评论")
# Keywords as migration 0002 seeded them before this change.
SEEDED_BEFORE = {
    "诈骗": "诈骗、被骗、骗子、骗钱、受骗、上当、刷单、安全账户、冒充、骗局、打到这个卡、打到这张卡、打到我卡、打到卡上、转到这个卡、汇到这个、房租+卡号、房租+卡上、房租+账号、房租+帐号、换了卡、换卡了、新卡号、中奖+领取、验证码+发给、[长数字]+建行、[长数字]+农行、[长数字]+工行、[长数字]+工商、[长数字]+中行、[长数字]+邮政、[长数字]+银行、[长数字]+账户、[长数字]+帐户、[长数字]+户名、[长数字]+开户、[长数字]+卡号、卡号+户名",
    "广告推销": "优惠、促销、特价、折扣、打折、贷款、低息、无抵押、放款、额度、利率、月息、理财、加微信、加v、代办、招聘、诚聘、月薪、底薪、楼盘、售楼、首付、开盘、现房、回复td、退订、详询、咨询热线、咨询电话、恭候、光临、莅临、活动期间、限时、名额有限、酬宾、送礼、赠送、免费体验、欢迎选购、新品、团购、专卖、微信号、qq号、店铺、本店、本公司、我公司、抢购、秒杀",
}
SORT_BEFORE = {"就医求助": "防疫求助", "就医求助（弱）": "防疫求助", "时事评论": "宣传提示"}


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    specs = {spec.name: spec for spec in DEFAULT_RULES}
    for offset, name in enumerate(ADDED):
        spec = specs[name]
        anchor = TriageRule.objects.filter(name=SORT_BEFORE[name]).values_list("sort", flat=True).first()
        TriageRule.objects.get_or_create(
            name=spec.name,
            kind=spec.kind,
            defaults={
                "category_code": spec.category_code,
                "urgency": spec.urgency,
                "weight": spec.weight,
                "keywords": "、".join(spec.keywords),
                "sort": max((anchor or 0) - 3 + offset, 0),
            },
        )
    for name, before in SEEDED_BEFORE.items():
        TriageRule.objects.filter(name=name, keywords=before).update(keywords="、".join(specs[name].keywords))


class Migration(migrations.Migration):
    dependencies = [("triage", "0002_default_rules")]

    operations = [
        migrations.AlterField(
            model_name="triagerule",
            name="kind",
            field=models.CharField(
                choices=[
                    ("emergency", "突发事件"),
                    ("hazard", "安全隐患"),
                    ("dispute", "纠纷"),
                    ("help", "求助"),
                    ("complaint", "投诉"),
                    ("opinion", "舆情苗头"),
                    ("chatter", "闲聊用语（减分）"),
                    ("ad", "广告用语（减分）"),
                    ("notice", "宣传提示（减分）"),
                    ("news", "时事评论（减分）"),
                ],
                max_length=16,
                verbose_name="类型",
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
