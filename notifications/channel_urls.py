from django.urls import path

from . import channel_views

app_name = "channels"

urlpatterns = [
    path("service-worker.js", channel_views.service_worker, name="service_worker"),
    path("push/subscribe/", channel_views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", channel_views.push_unsubscribe, name="push_unsubscribe"),
    path("sms/twilio/status/", channel_views.twilio_status, name="twilio_status"),
]
