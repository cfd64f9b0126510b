from django.apps import AppConfig


class CockpitConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dualgrid.cockpit"
    verbose_name = "驾驶舱"

    def ready(self) -> None:
        from dualgrid.people.signals import visit_duty_changed

        from .visitload import on_visit_duty_changed

        visit_duty_changed.connect(on_visit_duty_changed, dispatch_uid="cockpit.visitload")
