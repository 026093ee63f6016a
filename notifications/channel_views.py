"""The portal's side of the SMS and Web Push channels: the service worker at the
site's root (its scope is the path it is served from), a browser's push
subscription saved and removed, and Twilio's delivery reports."""

import json
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from members.views import own_member

from .channels import sms_status_record
from .push import push_subscription_delete, push_subscription_save
from .sms import twilio_signature_valid

SERVICE_WORKER = "js/service-worker.js"


@cache
def _service_worker() -> bytes:
    path = finders.find(SERVICE_WORKER)
    with open(str(path), "rb") as file:
        return file.read()


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_service_worker(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


def _json(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    member = own_member(request)
    body = _json(request)
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    try:
        push_subscription_save(
            member=member,
            endpoint=str(body.get("endpoint", "")),
            p256dh=str(keys.get("p256dh", "")),
            auth=str(keys.get("auth", "")),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ValidationError as error:
        return JsonResponse({"code": "invalid", "detail": error.messages}, status=400)
    return JsonResponse({"subscribed": True}, status=201)


@login_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    member = own_member(request)
    endpoint = str(_json(request).get("endpoint", ""))
    return JsonResponse({"removed": push_subscription_delete(member=member, endpoint=endpoint)})


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback of a text, signed with X-Twilio-Signature over
    the URL it called (with `?m=` naming our message) and the form it posts."""
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    params = {name: request.POST[name] for name in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_valid(url=url, params=params, signature=signature):
        return HttpResponse(status=403)
    sms_status_record(
        message_id=request.GET.get("m", ""),
        status=params.get("MessageStatus", ""),
        error_code=params.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
