"""/me/privacy/: the member's data as JSON, and closing the account."""

import datetime as dt
import json

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from members.models import Member
from points.models import Entry
from points.services import Source, points_earn
from tests.factories import PASSWORD, MemberFactory, order_place

pytestmark = pytest.mark.django_db

PRIVACY = reverse("members:privacy")
EXPORT = reverse("members:privacy_export")


@pytest.fixture
def member(client):
    member = MemberFactory(phone="+8613800000000", birthday=dt.date(1990, 5, 17))
    member.user.first_name = "Mei"
    member.user.save()
    client.force_login(member.user)
    return member


def test_export_downloads_the_members_own_data(client, member):
    order_place(member, 12345, order_id="A-1")
    other = MemberFactory()
    order_place(other, 999, order_id="B-1")

    response = client.get(EXPORT)

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["member"]["number"] == member.number
    assert data["member"]["email"] == member.user.email
    assert data["member"]["birthday"] == "1990-05-17"
    assert [order["order_id"] for order in data["orders"]] == ["A-1"]
    assert {"ledger", "coupons", "messages", "rewards", "orders"} <= set(data)


def test_closing_needs_the_password_and_writes_nothing_without_it(client, member):
    response = client.post(PRIVACY, {"password": "wrong", "understood": "on"})

    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.user.email


def test_closing_erases_personal_data_keeps_the_ledger_and_logs_out(client, member):
    points_earn(member=member, points=100, source=Source("order", "1"), key="k1")
    email = member.user.email

    response = client.post(PRIVACY, {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 302
    member.refresh_from_db()
    user = member.user
    assert member.status == Member.Status.CLOSED
    assert member.closed_at is not None
    assert (user.email, user.first_name, member.phone, member.birthday) == (None, "", "", None)
    assert not user.has_usable_password()
    assert not EmailAddress.objects.filter(email=email).exists()
    assert Entry.objects.filter(member=member).count() == 1
    assert client.get(reverse("members:dashboard")).status_code == 302
    assert not client.login(email=email, password=PASSWORD)
