from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("me/points/", views.history, name="history"),
]
