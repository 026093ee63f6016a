from django.urls import path

from . import views

app_name = "tiers"

urlpatterns = [
    path("me/tier/", views.tier, name="tier"),
]
