"""Web Push: the service worker at the root, a browser's subscription saved and
removed, and a push that a local push service takes only with a valid VAPID
signature (and decrypts); a subscription the service forgot is dropped, a
service down is retried."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Message, PushSubscription
from notifications.push import vapid_keys_generate
from notifications.services import outbox_send_due
from tests.factories import MemberFactory
from tests.notifications.test_outbox import NOON, queue

from .fakes import FakePushService, FakeServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=True) as traveller:
        yield traveller


@pytest.fixture
def vapid(settings):
    public, private = vapid_keys_generate()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:ops@example.com"
    return public


def subscribed(member, service, server):
    p256dh, auth = service.subscription_keys()
    service.origin = f"http://127.0.0.1:{server.port}"
    return PushSubscription.objects.create(
        member=member, endpoint=f"{service.origin}/push/abc123", p256dh=p256dh, auth=auth
    )


def test_the_service_worker_is_served_at_the_root(client):
    answer = client.get("/service-worker.js")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    assert answer["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in answer.content


def test_a_browser_subscribes_and_unsubscribes_on_the_profile_page(client, vapid):
    member = MemberFactory()
    client.force_login(member.user)
    page = client.get("/me/profile/").content.decode()
    assert f'data-vapid-key="{vapid}"' in page and "js/push.js" in page

    p256dh, auth = FakePushService(vapid).subscription_keys()
    body = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": p256dh, "auth": auth},
    }
    answer = client.post("/push/subscribe/", json.dumps(body), content_type="application/json")
    assert answer.status_code == 201
    subscription = PushSubscription.objects.get()
    assert subscription.member == member and subscription.auth == auth

    bad = client.post(
        "/push/subscribe/",
        json.dumps({"endpoint": "https://x.example/1", "keys": {"p256dh": "AAAA", "auth": auth}}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert PushSubscription.objects.count() == 1

    gone = client.post(
        "/push/unsubscribe/",
        json.dumps({"endpoint": body["endpoint"]}),
        content_type="application/json",
    )
    assert gone.json() == {"removed": True}
    assert not PushSubscription.objects.exists()


def test_without_vapid_keys_the_profile_offers_no_push(client, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    member = MemberFactory()
    client.force_login(member.user)
    assert "push-settings" not in client.get("/me/profile/").content.decode()


def test_a_push_reaches_the_push_service_signed_with_vapid_and_encrypted(vapid):
    member = MemberFactory()
    service = FakePushService(vapid)
    with FakeServer(service) as server:
        subscribed(member, service, server)
        message = queue(member, channel=Message.Channel.PUSH)
        outbox_send_due()

    message.refresh_from_db()
    assert message.state == "sent"
    assert service.received == [
        {
            "title": "Your points are expiring soon",
            "body": "1,200 points expire after 2026-12-20: spend them before then.",
            "url": "http://127.0.0.1:8000/me/points/",
        }
    ]


def test_a_push_signed_with_another_key_is_refused_by_the_service(vapid, settings):
    member = MemberFactory()
    service = FakePushService(vapid)
    with FakeServer(service) as server:
        subscribed(member, service, server)
        settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys_generate()
        message = queue(member, channel=Message.Channel.PUSH)
        outbox_send_due()
    message.refresh_from_db()
    assert service.received == []
    assert message.state == "suppressed"  # a 403 is not retried


def test_a_subscription_the_service_forgot_is_dropped(vapid):
    member = MemberFactory()
    service = FakePushService(vapid, gone=True)
    with FakeServer(service) as server:
        subscribed(member, service, server)
        message = queue(member, channel=Message.Channel.PUSH)
        outbox_send_due()
    message.refresh_from_db()
    assert (message.state, message.reason) == ("suppressed", "no_subscription")
    assert not PushSubscription.objects.exists()


def test_a_push_service_down_is_retried(vapid, _noon):
    member = MemberFactory()
    service = FakePushService(vapid, fail=[503])
    with FakeServer(service) as server:
        subscribed(member, service, server)
        message = queue(member, channel=Message.Channel.PUSH)
        outbox_send_due()
        message.refresh_from_db()
        assert (message.state, message.attempts) == ("queued", 1)
        _noon.shift(dt.timedelta(minutes=2))
        outbox_send_due()
    message.refresh_from_db()
    assert message.state == "sent"
    assert len(service.received) == 1


def test_expiry_warnings_go_by_sms_and_push_to_members_who_can_get_them(vapid):
    reachable = MemberFactory(phone="+8613800138000", phone_verified_at=timezone.now())
    PushSubscription.objects.create(
        member=reachable, endpoint="https://push.example/1", p256dh="x", auth="y"
    )
    email_only = MemberFactory(phone="+8613800138001")  # not verified: no text

    queue(reachable, key="w1")
    queue(email_only, key="w2")

    channels = set(Message.objects.values_list("member_id", "channel", "key"))
    assert channels == {
        (reachable.pk, "email", "w1"),
        (reachable.pk, "sms", "w1:sms"),
        (reachable.pk, "push", "w1:push"),
        (email_only.pk, "email", "w2"),
    }


def test_without_vapid_keys_a_push_is_suppressed_not_retried(settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    member = MemberFactory()
    PushSubscription.objects.create(
        member=member, endpoint="https://push.example/1", p256dh="x", auth="y"
    )
    message = queue(member, channel=Message.Channel.PUSH)
    outbox_send_due()
    message.refresh_from_db()
    assert (message.state, message.reason) == ("suppressed", "push_off")
