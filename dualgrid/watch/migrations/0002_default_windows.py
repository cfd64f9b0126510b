from datetime import time

from django.db import migrations

DEFAULT_WINDOWS = [("早间巡群", time(7, 0), time(8, 0)), ("晚间巡群", time(20, 0), time(22, 0))]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    PatrolWindow = apps.get_model("watch", "PatrolWindow")
    if not PatrolWindow.objects.filter(unit__isnull=True).exists():
        PatrolWindow.objects.bulk_create(
            PatrolWindow(unit=None, name=name, start=start, end=end) for name, start, end in DEFAULT_WINDOWS
        )


class Migration(migrations.Migration):
    dependencies = [("watch", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
