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
    path("export/households.xlsx", views.export_households, name="export_households"),
    path("export/rentals.xlsx", views.export_rentals, name="export_rentals"),
    path("export/businesses.xlsx", views.export_businesses, name="export_businesses"),
    path("export/key-places.xlsx", views.export_key_places, name="export_key_places"),
    path("export/visits.xlsx", views.export_visits, name="export_visits"),
    path("export/grids.xlsx", views.export_grids, name="export_grids"),
    path("export/chat-groups.xlsx", views.export_chat_groups, name="export_chat_groups"),
]
