from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "dualgrid.cases"
    label = "cases"
    verbose_name = "事件办理"
