from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("me/inbox/", views.inbox, name="inbox"),
    path("me/inbox/<int:message_id>/", views.inbox_message, name="inbox_message"),
]
