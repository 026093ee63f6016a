from django.urls import path

from . import views

app_name = "rewards"

urlpatterns = [
    path("me/rewards/", views.rewards, name="rewards"),
    path("me/rewards/redeemed/<uuid:public_id>/", views.redeemed, name="redeemed"),
    path("me/rewards/<slug:code>/", views.reward_redeem_view, name="redeem"),
    path("me/coupons/", views.coupons, name="coupons"),
]
