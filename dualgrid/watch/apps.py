from django.apps import AppConfig


class WatchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dualgrid.watch"
    verbose_name = "巡群（云网格消息）"
