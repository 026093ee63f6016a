from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.dashboard, name="dashboard"),
    path("me/profile/", views.profile, name="profile"),
    path("me/privacy/", views.privacy, name="privacy"),
    path("me/privacy/export.json", views.privacy_export, name="privacy_export"),
    path("language/", views.language, name="language"),
]
