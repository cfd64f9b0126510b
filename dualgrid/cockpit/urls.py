from django.urls import path

from . import report_views, screen_views, views

app_name = "cockpit"

urlpatterns = [
    path("", views.cockpit, name="index"),
    path("figures.json", views.figures_json, name="figures"),
    path("map.json", views.map_json, name="map"),
    path("warnings/", report_views.warning_list, name="warnings"),
    path("warnings/<int:warning_id>/", report_views.warning_detail, name="warning_detail"),
    path(
        "warnings/<int:warning_id>/acknowledge", report_views.warning_acknowledge, name="warning_acknowledge"
    ),
    path("warnings/<int:warning_id>/close", report_views.warning_close, name="warning_close"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/<int:report_id>.pdf", report_views.report_download, {"fmt": "pdf"}, name="report_pdf"),
    path("reports/<int:report_id>.xlsx", report_views.report_download, {"fmt": "xlsx"}, name="report_xlsx"),
    path("rankings/", screen_views.rankings_page, name="rankings"),
    path("screen/", screen_views.screen_page, name="screen"),
    path("screen/summary.json", screen_views.screen_summary, name="screen_summary"),
    path("screen/feed.json", screen_views.screen_feed, name="screen_feed"),
]
