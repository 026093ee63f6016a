"""A member never sees another member's data on any page, and a page costs the
same number of queries however long the member's history."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.referrals import referral_record
from notifications.models import Message
from points.models import Entry
from points.services import Source, points_earn
from rewards.models import Coupon, RewardRedemption
from rewards.services.rewards import reward_redeem
from shop.selectors import shop_default
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, order_place

from .helpers import inbox_message, make_reward

pytestmark = pytest.mark.django_db

PAGES = [
    "/me/",
    "/me/points/",
    "/me/points/?kind=earned&month=2026-12",
    "/me/tier/",
    "/me/rewards/",
    "/me/rewards/ten-off/",
    "/me/coupons/",
    "/me/coupons/?show=used",
    "/me/coupons/?show=expired",
    "/me/coupons/?show=gifts",
    "/me/referral/",
    "/me/inbox/",
    "/me/inbox/?show=unread",
    "/me/profile/",
    "/me/privacy/",
]


@pytest.fixture(autouse=True)
def _catalogue(db):
    make_reward("ten-off", points=100)
    make_reward("mug", points=100, kind="gift", coupon=None)
    campaign_save(document=document_parse(campaign_doc("referral", code="friends")))


def _history(member, size, tag):
    """`size` ledger entries, coupons and inbox messages, an order, a gift and a
    coupon from a reward, and a few referrals."""
    order_place(member, 12300, order_id=f"ORDER-{tag}")
    for n in range(size):
        points_earn(member=member, points=500, source=Source(Entry.Source.STAFF, "1"), key=f"{n}")
    reward_redeem(shop=shop_default(), member=member, reward_code="ten-off", key=f"{tag}-c")
    reward_redeem(shop=shop_default(), member=member, reward_code="mug", key=f"{tag}-g")
    Coupon.objects.bulk_create(
        Coupon(code=f"{tag}{n:06d}", kind="free_shipping", owner=member, source="staff")
        for n in range(size)
    )
    for n in range(size):
        inbox_message(member, code=f"{tag}MSG{n}", read=n % 2 == 0)
    for _ in range(3):
        referral_record(referee=MemberFactory(), referrer=member)


def test_no_page_shows_another_members_data(client):
    me, other = MemberFactory(), MemberFactory(phone="+8613911112222")
    _history(me, 3, "MINE")
    _history(other, 3, "THEIRS")
    client.force_login(me.user)
    theirs = [
        other.number,
        other.user.email,
        other.referral_code,
        other.phone,
        "ORDER-THEIRS",
        "THEIRS000001",
        "THEIRSMSG",
        *Coupon.objects.filter(owner=other).values_list("code", flat=True),
    ]

    for page in [*PAGES, reverse("members:privacy_export")]:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not [value for value in theirs if value in html], page

    their_message = Message.objects.filter(member=other, channel="inbox", read_at=None).first()
    their_redemption = RewardRedemption.objects.filter(member=other).first()
    assert client.get(f"/me/inbox/{their_message.pk}/").status_code == 404
    assert client.get(f"/me/rewards/redeemed/{their_redemption.public_id}/").status_code == 404
    client.post("/me/inbox/", {"message": their_message.pk})
    their_message.refresh_from_db()
    assert their_message.read_at is None
    export = json.loads(client.get(reverse("members:privacy_export")).content)
    assert [order["order_id"] for order in export["orders"]] == ["ORDER-MINE"]


def _queries(client, page):
    """Queries of a page once the caches every process keeps for a few seconds
    (tiers, campaigns, the personalisation's) are warm: the fewest of three loads
    after a first one (a query that grew with the history would be in all three)."""
    client.get(page)
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        counts.append(len(queries))
    return min(counts)


def test_queries_per_page_do_not_grow_with_the_history(client, settings):
    """Both histories fill every page (the inbox shows 20, the wallet 20, the
    history 25): what is left to grow is the query count itself. Both members
    are in the same recommendation variant (the popularity one reads no
    member's recommendations, one query fewer on the dashboard, and which
    variant a member gets depends on their number)."""
    settings.RECOMMENDATION_VARIANTS = "als=1"
    short, long = MemberFactory(), MemberFactory()
    _history(short, 60, "S")
    _history(long, 150, "L")

    counts = {}
    for member in (short, long):
        client.force_login(member.user)
        counts[member.pk] = {page: _queries(client, page) for page in PAGES}

    assert counts[short.pk] == counts[long.pk]
