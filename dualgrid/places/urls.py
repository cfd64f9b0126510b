from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("grids/", views.grid_list, name="grid_list"),
    path("grids/<int:grid_id>/", views.grid_detail, name="grid_detail"),
    path("grids/<int:grid_id>/geojson/", views.grid_geojson, name="grid_geojson"),
    path("grids/<int:grid_id>/notice.pdf", views.grid_notice_pdf, name="grid_notice_pdf"),
    path("villages/<int:unit_id>/notices.pdf", views.village_notices_pdf, name="village_notices_pdf"),
    path("coverage/", views.coverage, name="coverage"),
    path("import-geojson/", views.import_geojson, name="import_geojson"),
]
