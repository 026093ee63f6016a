from django.contrib import admin
from django.urls import path

from . import views

app_name = "staff"
urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("<slug:table>.csv", admin.site.admin_view(views.dashboard_csv), name="dashboard_csv"),
]
