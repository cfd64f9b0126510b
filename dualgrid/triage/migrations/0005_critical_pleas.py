"""Pleas for a critically ill person reach 紧急 (docs/PERFORMANCE.md, "紧急 recall on 2,400 decisions"):

* 呼救 gains 病情危急, 病情危重, 情况危急, 危重老人, 急需入院, 急需住院, 急需+床位, 孕妇+住不进, 没有病床+求,
  没床+求求, 没床+发烧, 不能再失去, 救救+婆婆/爹爹/阿姨/叔叔/伯伯 and 急需输血, 需要输血, 需o型血 (a, b, ab);
* 急病伤亡 gains 意识不清, 意识模糊, 吸不上气, 上不来气, and people trapped in a lift (电梯困人, 困在电梯,
  电梯+卡住/关在/出不来);
* 轻生 gains 自我了断.

Only rules an administrator has not edited since they were seeded get the new keywords (as in 0003 and
0004). Reversing restores the old keywords of those rules.
"""

from django.db import migrations

from dualgrid.triage.rules import DEFAULT_RULES

# Keywords as migrations 0002–0004 seeded them before this change.
SEEDED_BEFORE = {
    "呼救": "救救+妈、救救+爸、救救+母亲、救救+父亲、救救+老人、救救+奶奶、救救+爷爷、救救+外婆、救救+外公、救救+姥姥、救救+姥爷、救救+老公、救救+老婆、救救+妻子、救救+丈夫、救救+舅、救救+姑、救救+姨、救救+朋友、救救+同事、救救+病人、救救+患者、救救+孕妇、救救+婴儿、救救+宝宝、救救+她、救救+他、救救+博主、紧急求救、求救+患者、求救+老人、求救+病人、救命+老人、救命+患者、救命+病人、帮帮+妈、帮帮+爸、帮帮+老人、帮帮+患者、熊猫血、严重+入院、严重+床位、重症+求助、重症+入院、危重+求助、病重+求助、拖不起、快来人、来人啊、来人呐",
    "轻生": "跳楼、跳河、轻生、自杀、想不开、割腕、喝农药、不想活",
    "急病伤亡": "晕倒、昏倒、昏迷、不省人事、没有呼吸、没呼吸、呼吸困难、喘不上气、心脏病+发作、心脏病+犯了、心梗、脑溢血、脑中风、抽搐、打120、叫120、拨打120、叫救护车、病危、生命垂危、快不行了、吐血、大出血、流血、中毒、受伤、摔倒、摔伤、命悬一线、危在旦夕、呼吸衰竭",
}


def _new(name: str) -> str:
    return "、".join(next(spec for spec in DEFAULT_RULES if spec.name == name).keywords)


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    for name, before in SEEDED_BEFORE.items():
        TriageRule.objects.filter(name=name, keywords=before).update(keywords=_new(name))


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    for name, before in SEEDED_BEFORE.items():
        TriageRule.objects.filter(name=name, keywords=_new(name)).update(keywords=before)


class Migration(migrations.Migration):
    dependencies = [("triage", "0004_cries_for_help")]
    operations = [migrations.RunPython(forward, backward)]
