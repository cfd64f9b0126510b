from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dualgrid.web"
    label = "web"
    verbose_name = "网页界面"
