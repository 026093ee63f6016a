"""/me/points/: filters by kind and month, each entry in words, expiring points
at the top."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from points.models import Entry
from points.services import Source, points_earn
from tests.campaigns.documents import campaign_doc
from tests.factories import order_place
from tests.rewards.conftest import member_with_points

from .helpers import make_reward

pytestmark = pytest.mark.django_db

HISTORY = reverse("points:history")
KEY = "6f1c3a52-0a9b-4c55-9a5e-1f2d3c4b5a69"


@pytest.fixture
def member(client):
    member = member_with_points(0)
    client.force_login(member.user)
    return member


def test_entries_say_why_in_words(client, member):
    campaign_save(
        document=document_parse(
            campaign_doc(
                "order_bonus", code="big-basket", name="Big basket", name_zh_hans="大购物篮"
            )
        )
    )
    order_place(member, 50000, order_id="SO-1001")
    points_earn(member=member, points=2000, source=Source(Entry.Source.STAFF, "1"), key="gift")
    make_reward("ten-off", points=1000, name="Ten off")
    client.post(reverse("rewards:redeem", args=["ten-off"]), {"key": KEY})

    html = client.get(HISTORY).content.decode()

    assert "Order SO-1001: points pending until the return window closes" in html
    assert "Bonus: Big basket" in html
    assert "Spent on Ten off" in html
    assert "Adjusted by our team" in html
    member.language = "zh-hans"
    member.save()
    assert "大购物篮" in client.get(HISTORY).content.decode()


def test_filter_by_kind_and_month(client, member):
    with time_machine.travel(dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)):
        points_earn(member=member, points=111, source=Source(Entry.Source.STAFF, "1"), key="oct")
    with time_machine.travel(dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)):
        points_earn(member=member, points=222, source=Source(Entry.Source.STAFF, "1"), key="nov")
        make_reward("ten-off", points=100)
        client.post(reverse("rewards:redeem", args=["ten-off"]), {"key": KEY})

    november = client.get(HISTORY, {"month": "2026-11"}).content.decode()
    spent = client.get(HISTORY, {"kind": "spent"}).content.decode()

    assert "+222" in november and "+111" not in november
    assert spent.count('data-testid="entry"') == 1 and "Spent on" in spent


def test_filter_with_htmx_answers_the_list_alone(client, member):
    points_earn(member=member, points=111, source=Source(Entry.Source.STAFF, "1"), key="a")

    response = client.get(HISTORY, {"kind": "expired"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html and "Nothing matches this filter." in html


def test_a_bad_month_is_a_form_error_not_a_failure(client, member):
    response = client.get(HISTORY, {"month": "last year"})

    assert response.status_code == 200
    assert "Give a month as YYYY-MM." in response.content.decode()


def test_expiring_points_are_at_the_top(client, member, settings):
    settings.POINTS_EXPIRY_MONTHS = 1
    points_earn(member=member, points=300, source=Source(Entry.Source.STAFF, "1"), key="soon")

    html = client.get(HISTORY).content.decode()

    assert 'data-testid="expiring"' in html
    assert html.index('data-testid="expiring"') < html.index('data-testid="entry"')
    assert "300 points expire after" in html


def test_many_expiring_days_show_the_first_and_sum_the_rest(client, member, settings):
    """Lots expiring on eight days: the first five one by one, the last three as
    one sum up to the last of them."""
    settings.POINTS_EXPIRY_MONTHS = 1
    now = dt.datetime.now(dt.UTC)
    for n in range(8):
        with time_machine.travel(now - dt.timedelta(days=20 - n)):
            points_earn(
                member=member, points=100 + n, source=Source(Entry.Source.STAFF, "1"), key=f"{n}"
            )

    html = client.get(HISTORY).content.decode()

    assert html.count("points expire after") == 5
    assert "104 points expire after" in html and "105 points expire after" not in html
    assert "318 more points expire by" in html
