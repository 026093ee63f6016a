"""The unsubscribe link of marketing messages: no login, the signed token is the
proof. GET shows a confirmation button (link scanners fetch links, and must not
unsubscribe anyone); POST withdraws the consent, from that button or from the
mail client's one-click unsubscribe (RFC 8058, hence no CSRF token)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .services import unsubscribe_apply, unsubscribe_member


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe_member(token=token)
    if found is None:
        raise Http404
    member, channel = found
    if request.method == "POST":
        unsubscribe_apply(member=member, channel=channel)
        return render(request, "notifications/unsubscribe.html", {"done": True})
    return render(request, "notifications/unsubscribe.html", {"done": False})
