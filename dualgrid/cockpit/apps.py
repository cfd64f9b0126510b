from django.apps import AppConfig


class CockpitConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dualgrid.cockpit"
    verbose_name = "驾驶舱"
