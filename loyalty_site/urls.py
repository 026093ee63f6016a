from django.contrib import admin
from django.urls import include, path

from .api import api
from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("members.urls")),
    path("", include("points.urls")),
    path("", include("tiers.urls")),
]
