from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "dualgrid.demo"
    label = "demo"
    verbose_name = "演示数据"
