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
    path("residents/<int:resident_id>/tags/", views.resident_tag_add, name="resident_tag_add"),
    path(
        "residents/<int:resident_id>/tags/<int:resident_tag_id>/end/",
        views.resident_tag_end,
        name="resident_tag_end",
    ),
    path("residents/<int:resident_id>/visit/", views.visit_new, name="visit_new"),
    path("households/", views.household_list, name="household_list"),
    path("households/<int:household_id>/", views.household_detail, name="household_detail"),
    path("rentals/", views.rental_list, name="rental_list"),
    path("rentals/<int:house_id>/", views.rental_detail, name="rental_detail"),
    path("rentals/<int:house_id>/unmask/", views.rental_unmask, name="rental_unmask"),
    path("businesses/", views.business_list, name="business_list"),
    path("businesses/<int:business_id>/", views.business_detail, name="business_detail"),
    path("businesses/<int:business_id>/unmask/", views.business_unmask, name="business_unmask"),
    path("key-places/", views.key_place_list, name="key_place_list"),
    path("key-places/<int:place_id>/", views.key_place_detail, name="key_place_detail"),
    path("key-places/<int:place_id>/unmask/", views.key_place_unmask, name="key_place_unmask"),
    path("visits/", views.visits, name="visits"),
    path("visits/<int:visit_id>/photo/", views.visit_photo, name="visit_photo"),
    path("visits/compliance/", views.compliance, name="compliance"),
]
