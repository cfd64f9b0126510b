from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "dualgrid.exchange"
    label = "exchange"
    verbose_name = "Excel 导入导出"
