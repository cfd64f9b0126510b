"""Seed the eight standard duties of a grid, approved, as the default list of every tier."""

from django.db import migrations

from dualgrid.places.defaults import STANDARD_DUTIES

TIERS = ("total", "general", "micro")


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    Duty = apps.get_model("places", "Duty")
    TierDuty = apps.get_model("places", "TierDuty")
    for sort, (code, name) in enumerate(STANDARD_DUTIES, start=1):
        duty, _ = Duty.objects.get_or_create(
            code=code, defaults={"name": name, "standard": True, "approved": True, "sort": sort}
        )
        for tier in TIERS:
            TierDuty.objects.get_or_create(tier=tier, duty=duty)


class Migration(migrations.Migration):
    dependencies = [("places", "0002_tiers_duties_chat_groups")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
