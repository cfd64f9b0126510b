from django.urls import URLPattern

app_name = "exchange"

urlpatterns: list[URLPattern] = []
