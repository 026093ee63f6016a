from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("r/<str:code>", views.referral_link, name="referral_link"),
    path("me/referral/", views.referral, name="referral"),
]
