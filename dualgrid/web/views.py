from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

login_view = auth_views.LoginView.as_view(template_name="web/login.html")


def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:login")
