"""Referral: the link, the enrolment's referral_code, crediting both sides when
the referee's first order's points are released, refusals and the monthly cap."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from batch.services import program_midnight
from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.models import Referral
from campaigns.referrals import referral_record
from campaigns.services import refund_record
from points.models import Entry
from shop.selectors import shop_default
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, ledger_is_clean, order_place
from tests.tiers.helpers import night

pytestmark = pytest.mark.django_db

PLACED = program_midnight(dt.date(2026, 3, 2)) + dt.timedelta(hours=10)
RELEASED_ON = dt.date(2026, 3, 17)  # the first night after the 14-day window


@pytest.fixture
def referral_campaign():
    doc = campaign_doc(
        "referral",
        referral={"referrer_points": 300, "referee_points": 100, "monthly_cap": 2},
    )
    return campaign_save(document=document_parse(doc))


def _campaign_points(member):
    return sum(
        Entry.objects.filter(member=member, source_type=Entry.Source.CAMPAIGN).values_list(
            "amount", flat=True
        )
    )


def _first_order(member):
    with time_machine.travel(PLACED, tick=False):
        return order_place(member, 10_000, placed_at=PLACED)[0]


def _nights():
    night("release_pending", RELEASED_ON - dt.timedelta(days=1))
    night("referrals", RELEASED_ON - dt.timedelta(days=1))
    night("release_pending", RELEASED_ON)
    night("referrals", RELEASED_ON)
    return night("referrals", RELEASED_ON, chunk_size=1)


@pytest.mark.usefixtures("referral_campaign")
def test_both_sides_are_credited_when_the_first_orders_points_are_released():
    referrer, referee = MemberFactory(), MemberFactory()
    referral_record(referee=referee, referrer=referrer)
    _first_order(referee)

    night("referrals", RELEASED_ON - dt.timedelta(days=1))
    assert (_campaign_points(referrer), _campaign_points(referee)) == (0, 0)
    again = _nights()

    assert (_campaign_points(referrer), _campaign_points(referee)) == (300, 100)
    assert Referral.objects.get().status == "credited"
    assert again.counts.get("referrals_credited", 0) == 0
    assert ledger_is_clean()


@pytest.mark.usefixtures("referral_campaign")
def test_a_referral_whose_first_order_is_refunded_pays_nothing():
    referrer, referee = MemberFactory(), MemberFactory()
    referral_record(referee=referee, referrer=referrer)
    order = _first_order(referee)
    with time_machine.travel(PLACED + dt.timedelta(days=3), tick=False):
        refund_record(
            shop=shop_default(),
            order_id=order.order_id,
            refund_id="R",
            amount_minor=10_000,
            lines=[],
            fingerprint="R",
        )

    _nights()

    assert (_campaign_points(referrer), _campaign_points(referee)) == (0, 0)
    assert (Referral.objects.get().status, Referral.objects.get().reason) == (
        "refused",
        "first_order_refunded",
    )


@pytest.mark.usefixtures("referral_campaign")
def test_referring_oneself_earns_nothing():
    referrer = MemberFactory(phone="+8613800000000")
    same_phone = MemberFactory(phone="+8613800000000")
    referral = referral_record(referee=same_phone, referrer=referrer)
    _first_order(same_phone)

    _nights()

    assert (referral.status, referral.reason) == ("refused", "self_referral")
    assert _campaign_points(referrer) == 0


@pytest.mark.usefixtures("referral_campaign")
def test_a_referrer_is_paid_for_monthly_cap_referrals_a_month():
    referrer = MemberFactory()
    referees = [MemberFactory() for _ in range(3)]
    for referee in referees:
        referral_record(referee=referee, referrer=referrer)
        _first_order(referee)

    _nights()

    assert _campaign_points(referrer) == 600
    assert [_campaign_points(r) for r in referees] == [100, 100, 100]
    assert sorted(Referral.objects.values_list("reason", flat=True)) == ["", "", "monthly_cap"]


def test_the_enrolment_takes_a_referral_code(api_client):
    referrer = MemberFactory()

    created = api_client.post(
        "/api/v1/members",
        {"external_id": "C-1", "referral_code": referrer.referral_code.lower()},
        content_type="application/json",
    )
    unknown = api_client.post(
        "/api/v1/members",
        {"external_id": "C-2", "referral_code": "NOPE"},
        content_type="application/json",
    )

    assert created.status_code == 201
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referee.number) == (referrer, created.json()["number"])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["fields"] == {"referral_code": "Unknown code."}
    assert Referral.objects.count() == 1


def test_the_referral_link_refers_the_sign_up_that_follows(client):
    referrer = MemberFactory()

    response = client.get(reverse("campaigns:referral_link", args=[referrer.referral_code]))
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )

    assert response.status_code == 200
    assert f'href="{reverse("account_signup")}"' in response.content.decode()
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referee.user.email) == (referrer, "new@example.com")
