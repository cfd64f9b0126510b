"""Seed the shipped triage rules (editable afterwards in the admin)."""

from django.db import migrations

from dualgrid.triage.rules import DEFAULT_RULES


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriageRule = apps.get_model("triage", "TriageRule")
    for sort, spec in enumerate(DEFAULT_RULES):
        TriageRule.objects.get_or_create(
            name=spec.name,
            kind=spec.kind,
            defaults={
                "category_code": spec.category_code,
                "urgency": spec.urgency,
                "weight": spec.weight,
                "keywords": "、".join(spec.keywords),
                "sort": sort * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
