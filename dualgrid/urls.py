from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from dualgrid.api import api

admin.site.site_header = "双网格综合治理平台 · 配置管理"
admin.site.site_title = "双网格平台管理"
admin.site.index_title = "配置"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("places/", include("dualgrid.places.urls")),
    path("people/", include("dualgrid.people.urls")),
    path("exchange/", include("dualgrid.exchange.urls")),
    path("", include("dualgrid.web.urls")),
    # Uploaded photos are served by the app itself so an intranet install needs no extra web server;
    # a front proxy may take this path over in a bigger deployment.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
