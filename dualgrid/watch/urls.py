from django.urls import path

from . import hooks

app_name = "watch"

urlpatterns = [
    path("hooks/<slug:slug>/messages", hooks.webhook, name="hook_webhook"),
    path("hooks/<slug:slug>/onebot", hooks.onebot, name="hook_onebot"),
]
