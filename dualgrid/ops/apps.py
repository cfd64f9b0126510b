from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dualgrid.ops"
    label = "ops"
    verbose_name = "运行"
