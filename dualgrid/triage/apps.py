from django.apps import AppConfig


class TriageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dualgrid.triage"
    verbose_name = "消息研判"
