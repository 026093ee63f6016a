"""The member's inbox, and the unsubscribe link of marketing messages.

The unsubscribe link needs no login, the signed token is the proof. GET shows a
confirmation button (link scanners fetch links, and must not unsubscribe
anyone); POST withdraws the consent, from that button or from the mail client's
one-click unsubscribe (RFC 8058, hence no CSRF token)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from members.views import own_member

from .selectors import inbox_get, inbox_page, inbox_unread_count
from .services import inbox_mark_read, unsubscribe_apply, unsubscribe_member

INBOX_PAGE_SIZE = 20


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


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox; a POST marks messages read."""
    if request.method == "POST":
        return _inbox_read(request)
    member = own_member(request)
    before = request.GET.get("before", "")
    unread_only = request.GET.get("show") == "unread"
    items, next_before = inbox_page(
        member=member,
        before_id=int(before) if before.isdigit() else None,
        unread_only=unread_only,
        limit=INBOX_PAGE_SIZE,
    )
    return render(
        request,
        "notifications/inbox.html",
        {
            "items": items,
            "next_before": next_before,
            "unread_only": unread_only,
            "unread": inbox_unread_count(member=member),
        },
    )


@login_required
@require_GET
def inbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    """One message, read in full: opening it marks it read."""
    member = own_member(request)
    item = inbox_get(member=member, message_id=message_id)
    if item is None:
        raise Http404
    inbox_mark_read(member=member, message_ids=[message_id])
    return render(request, "notifications/inbox_message.html", {"item": item})


def _inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one message read (`message`) or all of them. With htmx, the message's
    card is answered in its new state; without, back to the inbox."""
    member = own_member(request)
    message_id = request.POST.get("message", "")
    if message_id.isdigit():
        inbox_mark_read(member=member, message_ids=[int(message_id)])
        item = inbox_get(member=member, message_id=int(message_id))
        if request.htmx and item is not None:  # type: ignore[attr-defined]
            return render(
                request,
                "notifications/_inbox_item.html",
                {"item": item, "unread": inbox_unread_count(member=member), "oob": True},
            )
    else:
        inbox_mark_read(member=member)
    return redirect("notifications:inbox")
