import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from standardwebhooks.webhooks import Webhook

from notifications import webhooks
from notifications.models import WebhookDelivery
from notifications.services import outbox_send_due
from notifications.webhooks import (
    WebhookError,
    webhook_endpoint_add,
    webhook_events_queue,
)
from points.redemptions import redemption_create
from points.services import Source, points_earn
from shop.selectors import shop_default
from tests.factories import MemberFactory, order_place

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each request and answers with
    the next of `answers` (then 200)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    ({k.lower(): v for k, v in self.headers.items()}, body.decode())
                )
                time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_a_delivery_is_signed_as_standard_webhooks_say(receiver, clock):
    _endpoint, secret = webhook_endpoint_add(url=receiver.url, events=["redemption.created"])
    webhook_events_queue(event="redemption.created", payloads=[{"id": "r-1", "points": 500}])

    assert outbox_send_due() == {"webhooks_delivered": 1}

    [(headers, body)] = receiver.requests
    assert secret.startswith("whsec_")
    assert Webhook(secret).verify(body, headers) == {
        "type": "redemption.created",
        "timestamp": NOON.isoformat(),
        "data": {"id": "r-1", "points": 500},
    }
    # The algorithm itself: v1, base64 HMAC-SHA256 of "id.timestamp.body".
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert headers["webhook-timestamp"] == str(int(NOON.timestamp()))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_status, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.response_ms is not None


def test_a_500_is_retried_with_backoff_and_then_delivered(receiver, clock):
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    receiver.answers = [500, 503]
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])

    assert outbox_send_due() == {"webhooks_retrying": 1}
    clock.shift(dt.timedelta(seconds=59))
    assert outbox_send_due() == {}
    clock.shift(dt.timedelta(seconds=1))
    assert outbox_send_due() == {"webhooks_retrying": 1}
    clock.shift(dt.timedelta(minutes=2))
    assert outbox_send_due() == {"webhooks_delivered": 1}

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_other_than_429_is_not_retried(receiver, clock, status):
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    receiver.answers = [status]
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])

    assert outbox_send_due() == {"webhooks_failed": 1}
    clock.shift(dt.timedelta(hours=1))
    assert outbox_send_due() == {}

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("failed", 1, status)
    assert len(receiver.requests) == 1


def test_a_429_and_a_time_out_are_retried(receiver, clock, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    receiver.answers = [429]
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])

    assert outbox_send_due() == {"webhooks_retrying": 1}
    receiver.delay = 0.5
    clock.shift(dt.timedelta(minutes=1))
    assert outbox_send_due() == {"webhooks_retrying": 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status is None
    assert "timed out" in delivery.error


def test_retries_stop_24_hours_after_the_event(receiver, clock):
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    receiver.answers = [500] * 100
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])

    outcomes = []
    for _ in range(40):
        outcomes.append(outbox_send_due())
        clock.shift(webhooks.BACKOFF_MAX)

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    assert {"webhooks_failed": 1} in outcomes
    assert len(receiver.requests) == delivery.attempts
    assert delivery.attempts < 20


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
    ],
)
def test_a_private_address_is_refused_without_the_setting(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    with pytest.raises(WebhookError) as refused:
        webhook_endpoint_add(url=url, events=["tier.changed"])

    assert refused.value.code == "private_address"
    with pytest.raises(CommandError, match="private"):
        call_command("webhook_endpoint_add", url, "--events", "tier.changed")


@pytest.mark.parametrize(
    ("url", "events", "code"),
    [
        ("ftp://example.com/x", ["tier.changed"], "invalid_url"),
        ("https://example.com/x", ["tier.exploded"], "invalid_events"),
        ("https://example.com/x", [], "invalid_events"),
    ],
)
def test_a_bad_endpoint_is_refused(url, events, code):
    with pytest.raises(WebhookError) as refused:
        webhook_endpoint_add(url=url, events=events)

    assert refused.value.code == code


def test_an_endpoint_that_came_to_point_inside_is_refused_when_delivering(
    receiver, clock, settings
):
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    assert outbox_send_due() == {"webhooks_failed": 1}

    assert receiver.requests == []
    assert WebhookDelivery.objects.get().error.startswith("refused")


def test_the_command_prints_the_secret(receiver):
    out = StringIO()

    call_command(
        "webhook_endpoint_add", receiver.url, "--events", "tier.changed,points.expiring", stdout=out
    )

    assert out.getvalue().strip().startswith("whsec_")


def test_events_reach_only_the_endpoints_that_hear_them(receiver, clock):
    webhook_endpoint_add(url=receiver.url, events=["tier.changed"])
    member = MemberFactory()

    order_place(member, 100_000)  # upgrades to silver
    points_earn(member=member, points=1000, source=Source("staff", "x"), key="x")
    redemption_create(shop=shop_default(), member=member, points=500, key="cart-1")
    outbox_send_due()

    assert [json.loads(body)["type"] for _, body in receiver.requests] == ["tier.changed"]
    assert json.loads(receiver.requests[0][1])["data"] == {
        "member": member.number,
        "from": "member",
        "to": "silver",
        "reason": "upgrade",
        "as_of": "2026-11-24",
    }


def test_a_redemption_is_told_to_its_endpoints(receiver, clock):
    webhook_endpoint_add(url=receiver.url, events=["redemption.created"])
    member = MemberFactory()
    points_earn(member=member, points=1000, source=Source("staff", "x"), key="x")

    redemption, _ = redemption_create(shop=shop_default(), member=member, points=500, key="cart-1")
    redemption_create(
        shop=shop_default(), member=member, points=500, key="cart-1"
    )  # a replay: no event
    outbox_send_due()

    [(_, body)] = receiver.requests
    assert json.loads(body)["data"] == {
        "id": str(redemption.public_id),
        "member": member.number,
        "points": 500,
        "status": "active",
        "discount": {"amount": "5.00", "currency": "CNY"},
    }


def test_staff_redeliver_a_failed_delivery(receiver, clock, admin_client):
    webhook_endpoint_add(url=receiver.url, events=["points.expiring"])
    receiver.answers = [400]
    webhook_events_queue(event="points.expiring", payloads=[{"member": "M1"}])
    outbox_send_due()
    delivery = WebhookDelivery.objects.get()

    response = admin_client.post(
        "/admin/notifications/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    outbox_send_due()

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 2, 200)
    page = admin_client.get(f"/admin/notifications/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200


def test_staff_cannot_add_a_private_endpoint_in_the_admin(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    response = admin_client.post(
        "/admin/notifications/webhookendpoint/add/",
        {"url": "http://127.0.0.1/x", "events": ["tier.changed"], "active": "on"},
    )

    assert response.status_code == 200
    assert b"private" in response.content
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    response = admin_client.post(
        "/admin/notifications/webhookendpoint/add/",
        {"url": "http://127.0.0.1/x", "events": ["tier.changed"], "active": "on"},
    )
    assert response.status_code == 302
    from notifications.models import WebhookEndpoint

    assert WebhookEndpoint.objects.get().secret.startswith("whsec_")


def test_the_night_tells_of_downgrades_and_plans_ended(receiver):
    """tier.changed from the nightly jobs: a downgrade at the end of grace and a
    paid plan that ran out."""
    from tests.tiers.helpers import BOUGHT, GRACE_END, OUT, night, recalc
    from tiers.models import PaidPlan

    webhook_endpoint_add(url=receiver.url, events=["tier.changed"])
    member = MemberFactory()
    PaidPlan.objects.create(code="plus", name="Plus", sku="PLUS-1Y", price_minor=19_900)
    with time_machine.travel(BOUGHT, tick=False):
        order_place(member, 500_000, placed_at=BOUGHT, lines=[("PLUS-1Y", 1, 500_000)])
    recalc(OUT)
    night("paid_plans", OUT)
    recalc(GRACE_END)
    with time_machine.travel(GRACE_END + dt.timedelta(days=1), tick=False):
        outbox_send_due()

    events = [json.loads(body)["data"] for _, body in receiver.requests]
    assert [(e["reason"], e["from"], e["to"]) for e in events] == [
        ("plan_started", "member", "member"),
        ("upgrade", "member", "gold"),
        ("plan_ended", "gold", "gold"),
        ("downgrade", "gold", "silver"),
    ]
    assert {e["member"] for e in events} == {member.number}
