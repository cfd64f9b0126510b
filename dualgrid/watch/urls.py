from django.urls import path

from . import hooks, outbox_views, views

app_name = "watch"

urlpatterns = [
    path("hooks/<slug:slug>/messages", hooks.webhook, name="hook_webhook"),
    path("hooks/<slug:slug>/onebot", hooks.onebot, name="hook_onebot"),
    # 巡群: the patrol feed, its actions, the supervisors' table and the urgent alerts (views).
    path("", views.feed_page, name="feed"),
    path("messages/<int:message_id>/context/", views.message_context, name="message_context"),
    path("messages/<int:message_id>/case/", views.message_case, name="message_case"),
    path("messages/<int:message_id>/dismiss/", views.message_dismiss, name="message_dismiss"),
    path("messages/<int:message_id>/unlink/", views.message_unlink, name="message_unlink"),
    path("patrol/", views.patrol, name="patrol"),
    path("alerts/", views.alerts, name="alerts"),
    # Answering back, publicity and chat-history imports (outbox_views).
    path("outbox/", outbox_views.outbox_list, name="outbox"),
    path("outbox/<int:pk>/", outbox_views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/retry", outbox_views.outbox_retry, name="outbox_retry"),
    path("outbox/<int:pk>/cancel", outbox_views.outbox_cancel, name="outbox_cancel"),
    path("replies/<int:pk>/send", outbox_views.reply_send, name="reply_send"),
    path("replies/<int:pk>/discard", outbox_views.reply_discard, name="reply_discard"),
    path("notices/", outbox_views.notice_list, name="notices"),
    path("notices/new", outbox_views.notice_new, name="notice_new"),
    path("notices/<int:pk>/", outbox_views.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/cancel", outbox_views.notice_cancel, name="notice_cancel"),
    path("import/", outbox_views.import_page, name="import"),
]
