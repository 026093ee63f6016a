"""POST /api/v1/behaviour: batches stored once per event id, refused whole when
bad or too long, earning nothing; the nightly purge."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from personalisation.models import BehaviourEvent
from points.models import Entry
from tests.api import assert_error, post
from tests.factories import ApiKeyFactory, MemberFactory, ShopFactory
from tests.tiers.helpers import night

pytestmark = pytest.mark.django_db

URL = "/api/v1/behaviour"
TYPES = ["view", "click", "add_to_cart", "search"]


def event(n, member, **extra):
    kind = TYPES[n % 4]
    subject = {"query": f"green tea {n}"} if kind == "search" else {"sku": f"SKU-{n % 50}"}
    return {
        "event_id": f"e-{n}",
        "member": member.number,
        "type": kind,
        "occurred_at": timezone.now().isoformat(),
        **subject,
        **extra,
    }


def test_a_batch_of_1000_with_duplicates_stores_each_event_once(api_client):
    members = [MemberFactory() for _ in range(3)]
    events = [event(n % 700, members[n % 3]) for n in range(1000)]
    assert len({e["event_id"] for e in events}) == 700

    response = post(api_client, URL, {"events": events})

    assert response.status_code == 202, response.content
    assert response.json() == {
        "received": 1000,
        "stored": 700,
        "duplicates": 300,
        "unknown_members": 0,
    }
    assert BehaviourEvent.objects.count() == 700
    assert not Entry.objects.exists()  # behaviour earns nothing

    again = post(api_client, URL, {"events": events[:10]})

    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 10
    assert BehaviourEvent.objects.count() == 700


@pytest.mark.parametrize(
    "moment",
    ["2026-11-23T10:00:00.123457+08:00", "1970-01-01T00:00:00Z", "9998-12-31T23:59:59.999999Z"],
)
def test_an_event_keeps_its_time_to_the_microsecond(api_client, moment):
    member = MemberFactory()

    post(api_client, URL, {"events": [event(1, member, occurred_at=moment)]})

    sent = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    assert BehaviourEvent.objects.get().occurred_at == sent


def test_the_same_event_id_from_another_shop_is_another_event(api_client, client):
    member = MemberFactory()
    other = ApiKeyFactory(shop=ShopFactory())
    post(api_client, URL, {"events": [event(1, member)]})

    response = client.post(
        URL,
        json.dumps({"events": [event(1, member)]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {other.plaintext}"},
    )

    assert response.json()["stored"] == 1
    assert BehaviourEvent.objects.count() == 2


def test_a_batch_over_the_limit_is_refused_and_stores_nothing(api_client):
    member = MemberFactory()

    response = post(api_client, URL, {"events": [event(n, member) for n in range(1001)]})

    assert response.status_code in (413, 422)
    assert_error(
        response, response.status_code, "invalid" if response.status_code == 422 else "too_large"
    )
    assert not BehaviourEvent.objects.exists()


def test_a_body_over_the_size_limit_is_413(api_client, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    member = MemberFactory()

    response = post(api_client, URL, {"events": [event(n, member) for n in range(200)]})

    assert_error(response, 413, "too_large")
    assert not BehaviourEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "purchase"}, "events.5.type"),
        ({"type": "view", "sku": ""}, "events.5"),
        ({"type": "search", "query": "", "sku": "X"}, "events.5"),
        ({"occurred_at": "2026-11-20T10:00:00"}, "events.5.occurred_at"),
        ({"event_id": ""}, "events.5.event_id"),
        ({"colour": "red"}, "events.5.colour"),
    ],
)
def test_one_bad_event_refuses_the_whole_batch(api_client, change, field):
    member = MemberFactory()
    events = [event(n, member) for n in range(10)]
    events[5] = {**events[5], **change}

    error = assert_error(post(api_client, URL, {"events": events}), 422, "invalid")

    assert any(name.startswith(field) for name in error["fields"]), error
    assert not BehaviourEvent.objects.exists()


def test_events_of_unknown_members_are_counted_not_stored(api_client):
    member = MemberFactory()
    stranger = {**event(2, member), "member": "M99999999"}

    response = post(api_client, URL, {"events": [event(1, member), stranger]})

    assert response.json()["unknown_members"] == 1
    assert response.json()["stored"] == 1


def test_an_empty_batch_is_refused(api_client):
    assert_error(post(api_client, URL, {"events": []}), 422, "invalid")


def test_the_nightly_purge_keeps_what_is_within_retention(settings):
    settings.BEHAVIOUR_RETENTION_DAYS = 30
    from batch.services import program_midnight
    from shop.selectors import shop_default

    member = MemberFactory()
    as_of = dt.date(2026, 11, 20)
    cutoff = program_midnight(as_of - dt.timedelta(days=30))
    for n, at in enumerate([cutoff - dt.timedelta(seconds=1), cutoff]):
        BehaviourEvent.objects.create(
            shop=shop_default(), event_id=f"e{n}", member=member, type=1, sku="A", occurred_at=at
        )

    night("behaviour_purge", as_of)

    assert list(BehaviourEvent.objects.values_list("event_id", flat=True)) == ["e1"]
