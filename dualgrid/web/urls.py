from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    # Public: residents, no account.
    path("report/", views.report, name="report"),
    path("report/done/", views.report_done, name="report_done"),
    path("track/", views.track, name="track"),
    path("geo/grids.geojson", views.grids_geojson, name="grids_geojson"),
    # Staff.
    path("queue/", views.queue, name="queue"),
    path("tasks/", views.tasks, name="tasks"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/actions/<str:action>/", views.case_action, name="case_action"),
    path("cases/<int:case_id>/photos/<int:attachment_id>/", views.case_photo, name="case_photo"),
    path("cases/<int:case_id>/reveal-phone/", views.case_reveal_phone, name="case_reveal_phone"),
    path("grids/options/", views.grid_options, name="grid_options"),
]
