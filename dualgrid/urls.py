from django.contrib import admin
from django.urls import include, path

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
    path("watch/", include("dualgrid.watch.urls")),
    path("cockpit/", include("dualgrid.cockpit.urls")),
    # Uploaded photos show people and homes: there is no public /media/ path. Each is served by a
    # view that checks the reader's scope (web:case_photo, people:visit_photo, the API's case_photo).
    path("", include("dualgrid.web.urls")),
]
