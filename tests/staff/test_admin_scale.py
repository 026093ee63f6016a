"""The admin's lists at scale: a page costs the same few queries whatever the
number of rows on it (no query per row), the count is estimated on PostgreSQL,
and search tries the exact, indexed values first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Member, Sanction
from members.paging import EXACT_COUNT_UP_TO, EstimatedCountPaginator
from members.services import member_sanction
from points.models import Entry
from points.services import Source, points_earn
from rewards.services.coupons import CouponSpec, coupon_create
from shop.models import Order
from staff.models import FraudFlag
from tests.factories import MemberFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "admin:members_member_changelist",
    "admin:points_entry_changelist",
    "admin:shop_order_changelist",
    "admin:rewards_coupon_changelist",
    "admin:members_sanction_changelist",
    "admin:staff_fraudflag_changelist",
]


def _rows(count):
    staff = UserFactory(is_staff=True)
    for n in range(Member.objects.count(), Member.objects.count() + count):
        member = MemberFactory(phone=f"+86139{n:08d}", external_id=f"cust-{n}")
        points_earn(
            member=member,
            points=10,
            source=Source(Entry.Source.STAFF, "x"),
            key=f"k{n}",
            actor=staff,
        )
        OrderFactory(member=member)
        coupon_create(spec=CouponSpec(kind="gift"), source="staff", owner=member, actor=staff)
        member_sanction(member=member, kind=Sanction.Kind.WARN, reason="late", actor=staff)
        FraudFlag.objects.create(member=member, rule="points_per_day", period=str(n))


def _queries_per_page(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.mark.parametrize("name", LISTS)
def test_a_list_page_costs_the_same_queries_for_2_rows_as_for_12(admin_client, name):
    url = reverse(name)
    _rows(2)
    admin_client.get(url)  # the session and caches
    few, response = _queries_per_page(admin_client, url)
    assert len(response.context["cl"].result_list) >= 2

    _rows(10)
    many, response = _queries_per_page(admin_client, url)

    assert len(response.context["cl"].result_list) >= 12
    assert many == few, f"{name}: {few} queries for 2 rows, {many} for 12"
    assert many <= 12


def test_the_member_search_finds_by_exact_values_first(admin_client):
    _rows(3)
    member = Member.objects.get(external_id="cust-1")
    url = reverse("admin:members_member_changelist")
    for term in [
        member.number,
        member.number.lower(),
        member.user.email.upper(),
        "cust-1",
        member.phone,
    ]:
        found = admin_client.get(url, {"q": term}).context["cl"].result_list
        assert [m.pk for m in found] == [member.pk], term
    # Nothing exact: a part of the e-mail address.
    part = member.user.email.split("@")[0]
    assert member in admin_client.get(url, {"q": part}).context["cl"].result_list
    assert not admin_client.get(url, {"q": "no-such-thing"}).context["cl"].result_list


def test_entries_and_orders_are_found_by_their_references(admin_client):
    _rows(2)
    order = Order.objects.first()
    orders = admin_client.get(reverse("admin:shop_order_changelist"), {"q": order.order_id})
    assert list(orders.context["cl"].result_list) == [order]
    entry = Entry.objects.first()
    entries = admin_client.get(reverse("admin:points_entry_changelist"), {"q": entry.member.number})
    assert list(entries.context["cl"].result_list) == [entry]


def test_the_paginator_counts_a_small_list_exactly():
    MemberFactory.create_batch(3)
    assert EstimatedCountPaginator(Member.objects.order_by("pk"), 2).count == 3
    assert EstimatedCountPaginator(Member.objects.filter(phone="x").order_by("pk"), 2).count == 0


def test_a_page_past_the_first_has_the_rows_the_list_has_there_in_its_order():
    MemberFactory.create_batch(7)
    members = Member.objects.select_related("user").order_by("-user__email", "-pk")
    paginator = EstimatedCountPaginator(members, 3)

    pages = [list(paginator.page(n).object_list) for n in (1, 2, 3)]

    assert pages == [list(members[0:3]), list(members[3:6]), list(members[6:7])]


def test_a_long_filtered_list_is_counted_only_up_to_the_cap(monkeypatch):
    import members.paging

    monkeypatch.setattr(members.paging, "EXACT_COUNT_UP_TO", 4)
    MemberFactory.create_batch(7)
    paginator = EstimatedCountPaginator(Member.objects.filter(pk__gt=0).order_by("pk"), 2)
    assert paginator.count == 5
    assert EXACT_COUNT_UP_TO == 10_000


@pytest.mark.postgres
def test_an_unfiltered_list_on_postgresql_takes_the_planners_estimate(monkeypatch):
    import members.paging

    monkeypatch.setattr(members.paging, "EXACT_COUNT_UP_TO", 4)
    MemberFactory.create_batch(9)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Member._meta.db_table}")
    paginator = EstimatedCountPaginator(Member.objects.order_by("pk"), 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [Member._meta.db_table],
        )
        estimate = cursor.fetchone()[0]
    assert paginator.count == estimate > 4
