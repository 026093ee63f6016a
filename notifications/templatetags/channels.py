"""`{% push_settings %}`: the profile page's Web Push section (this browser's
notifications on or off), for the logged-in member."""

from typing import Any

from django import template
from django.conf import settings

from notifications.models import PushSubscription
from notifications.push import push_enabled

register = template.Library()


@register.inclusion_tag("notifications/_push_settings.html", takes_context=True)
def push_settings(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    member = getattr(getattr(request, "user", None), "member", None)
    if member is None or not push_enabled():
        return {"push_key": ""}
    return {
        "push_key": settings.VAPID_PUBLIC_KEY,
        "push_browsers": PushSubscription.objects.filter(member=member).count(),
        "csrf_token": context.get("csrf_token"),
    }
