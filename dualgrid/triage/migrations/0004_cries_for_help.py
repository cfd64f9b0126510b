"""Rules from the in-domain actionability work (docs/PERFORMANCE.md, 2026-11-24):

* 急病伤亡 no longer treats 救命/救救/求救/急救/救护车/高烧不退/心脏病 alone as 紧急 — on social media they are
  mostly exclamations ("救命啊开学了", "救救孩子吧") and news; they become the hint 呼救（弱）;
* 呼救 (紧急) is a cry for help that names who is in danger: 救救+妈妈, 求救+老人, 熊猫血, 拖不起, 快来人…;
* 社区服务（弱）: a service the community owes and did not deliver (没人上门, 排查+漏, 没通知…);
* 就医求助 gains 家里没菜, 没菜了, 没有菜了.

Added rules are created where missing; changed rules get their new keywords only where an administrator
has not edited them since they were seeded (same approach as 0003). Reversing restores the old keywords
of unedited rules and removes the added ones.
"""

from django.db import migrations

from dualgrid.triage.rules import DEFAULT_RULES

ADDED = ("呼救", "呼救（弱）", "社区服务（弱）")
# Each added rule is placed just after this one.
AFTER = {"呼救": "急病伤亡", "呼救（弱）": "急病伤亡", "社区服务（弱）": "村务"}
# Keywords as migrations 0002/0003 seeded them before this change.
SEEDED_BEFORE = {
    "急病伤亡": "晕倒、昏倒、昏迷、不省人事、没有呼吸、没呼吸、呼吸困难、喘不上气、心脏病、脑溢血、脑中风、抽搐、急救、打120、叫120、拨打120、救护车、救命、救救、求救、病危、生命垂危、快不行了、吐血、大出血、流血、中毒、受伤、摔倒、摔伤、命悬一线、危在旦夕、高烧不退、呼吸衰竭",
    "就医求助": "无法就医、没法就医、不能就医、看不了病、看不上病、就医难、住不了院、住不进医院、入不了院、透析+停、透析+没、无法透析、做不了透析、化疗+停、无法化疗、发烧+怎么办、发烧+咋办、发热+怎么办、低烧+怎么办、高烧+怎么办、咳嗽+怎么办、发烧+该怎么、奶粉+快没、奶粉+没了、奶粉+买不到、尿不湿+没、断粮、没吃的了、没有吃的、没菜吃、买不到菜",
}


def _specs():  # type: ignore[no-untyped-def]
    return {spec.name: spec for spec in DEFAULT_RULES}


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    specs = _specs()
    for offset, name in enumerate(ADDED):
        spec = specs[name]
        anchor = TriageRule.objects.filter(name=AFTER[name]).values_list("sort", flat=True).first()
        TriageRule.objects.get_or_create(
            name=spec.name,
            kind=spec.kind,
            defaults={
                "category_code": spec.category_code,
                "urgency": spec.urgency,
                "weight": spec.weight,
                "keywords": "、".join(spec.keywords),
                "sort": (anchor or 0) + 1 + offset,
            },
        )
    for name, before in SEEDED_BEFORE.items():
        TriageRule.objects.filter(name=name, keywords=before).update(keywords="、".join(specs[name].keywords))


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    specs = _specs()
    for name, before in SEEDED_BEFORE.items():
        TriageRule.objects.filter(name=name, keywords="、".join(specs[name].keywords)).update(keywords=before)
    TriageRule.objects.filter(name__in=ADDED).delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0003_rule_kind_news")]

    operations = [migrations.RunPython(forward, backward)]
