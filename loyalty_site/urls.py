from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from .api import api
from .health import healthz
from .metrics import metrics

# Staff log in through the site's login page, whose attempts allauth limits (per
# client and per e-mail); the admin's own login form would let them be guessed freely.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/dashboard/", include("staff.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("members.urls")),
    path("", include("notifications.urls")),
    path("", include("notifications.channel_urls")),
    path("", include("shop.urls")),
    path("", include("points.urls")),
    path("", include("tiers.urls")),
    path("", include("rewards.draw_urls")),
    path("", include("rewards.urls")),
    path("", include("campaigns.urls")),
]
