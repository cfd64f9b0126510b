from django.urls import path

from . import views

app_name = "cockpit"

urlpatterns = [
    path("", views.cockpit, name="index"),
    path("figures.json", views.figures_json, name="figures"),
    path("map.json", views.map_json, name="map"),
]
