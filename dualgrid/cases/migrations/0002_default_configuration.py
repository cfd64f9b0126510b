"""Seed the default category tree and time limits (editable afterwards in the admin)."""

from django.db import migrations

from dualgrid.cases.defaults import CATEGORY_TREE, TIME_LIMITS


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    Category = apps.get_model("cases", "Category")
    TimeLimit = apps.get_model("cases", "TimeLimit")
    by_code = {}
    for sort, (code, name, parent, kind) in enumerate(CATEGORY_TREE):
        by_code[code], _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "parent": by_code.get(parent) if parent else None, "kind": kind, "sort": sort}
        )
    for code, kind, urgency, unit, sign, resolve in TIME_LIMITS:
        TimeLimit.objects.get_or_create(
            category=by_code[code] if code else None,
            kind=kind,
            urgency=urgency,
            defaults={"unit": unit, "sign_limit": sign, "resolve_limit": resolve},
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
