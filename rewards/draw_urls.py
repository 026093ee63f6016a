from django.urls import path

from . import draw_views

app_name = "draws"

urlpatterns = [
    path("me/draws/", draw_views.draws, name="draws"),
    path("me/draws/<slug:code>/play/", draw_views.play, name="play"),
]
