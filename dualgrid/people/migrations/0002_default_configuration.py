"""Seed staff roles, unified post names and person tags with their visit rules (editable in the admin)."""

from django.db import migrations

from dualgrid.people.defaults import POST_NAMES, STAFF_ROLES, TAGS


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    StaffRole = apps.get_model("people", "StaffRole")
    PostName = apps.get_model("people", "PostName")
    Tag = apps.get_model("people", "Tag")
    for sort, (code, name, grants) in enumerate(STAFF_ROLES, start=1):
        StaffRole.objects.get_or_create(code=code, defaults={"name": name, "grants_access": grants, "sort": sort})
    for sort, name in enumerate(POST_NAMES, start=1):
        PostName.objects.get_or_create(name=name, defaults={"sort": sort})
    for sort, (group, code, name, days) in enumerate(TAGS, start=1):
        Tag.objects.get_or_create(
            group=group, code=code, defaults={"name": name, "visit_every_days": days, "sort": sort}
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
