from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "dualgrid.people"
    label = "people"
    verbose_name = "人员与走访"
