from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("grids/<int:grid_id>/staff/", views.grid_staff, name="grid_staff"),
    path("grids/<int:grid_id>/staff/add/", views.assignment_add, name="assignment_add"),
    path("grids/<int:grid_id>/staff/replace/", views.assignment_replace, name="assignment_replace"),
    path("grids/<int:grid_id>/staff/<int:assignment_id>/end/", views.assignment_end, name="assignment_end"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:staff_id>/unmask/", views.staff_unmask, name="staff_unmask"),
    path("residents/", views.resident_list, name="resident_list"),
    path("residents/<int:resident_id>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:resident_id>/unmask/", views.resident_unmask, name="resident_unmask"),
    path("residents/<int:resident_id>/visit/", views.visit_new, name="visit_new"),
    path("visits/", views.visits, name="visits"),
    path("visits/compliance/", views.compliance, name="compliance"),
]
