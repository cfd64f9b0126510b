from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("import/<int:job_id>/", views.job_page, name="job"),
    path("import/<int:job_id>/report.xlsx", views.job_report, name="job_report"),
    path("templates/<slug:kind>.xlsx", views.template_download, name="template"),
    path("export/cases.xlsx", views.export_cases, name="export_cases"),
    path("export/residents.xlsx", views.export_residents, name="export_residents"),
    path("export/staff.xlsx", views.export_staff, name="export_staff"),
]
