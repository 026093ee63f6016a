"""Addresses the shop has verified: enrolment, linking a portal member, redeeming."""

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Member, User
from members.services import member_enrol
from points.models import Entry
from points.services import Source, points_earn
from tests.api import assert_error, post
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _give_points(member, points=1000):
    points_earn(
        member=member,
        points=points,
        source=Source(Entry.Source.STAFF, "test"),
        key=f"test:{member.pk}",
        effective_at=timezone.now() - dt.timedelta(days=1),
    )


def _redeem(client, member, key="r1"):
    return post(
        client,
        "/api/v1/redemptions",
        {"member": member.number, "points": 100, "idempotency_key": key},
    )


def test_a_member_the_shop_verified_redeems_at_once(api_client):
    response = post(
        api_client,
        "/api/v1/members",
        {"external_id": "C-1", "email": "mei@example.com", "email_verified": True},
    )
    assert response.status_code == 201
    assert response.json()["email_verified"] is True
    member = Member.objects.get(external_id="C-1")
    _give_points(member)

    redeemed = _redeem(api_client, member)

    assert redeemed.status_code == 201, redeemed.content


def test_a_member_enrolled_without_it_is_refused_email_unverified(api_client):
    response = post(
        api_client, "/api/v1/members", {"external_id": "C-1", "email": "mei@example.com"}
    )
    assert response.json()["email_verified"] is False
    member = Member.objects.get(external_id="C-1")
    _give_points(member)

    assert_error(_redeem(api_client, member), 403, "email_unverified")
    assert not Entry.objects.filter(kind="redeem").exists()


def test_email_verified_must_be_a_boolean(api_client):
    response = post(
        api_client,
        "/api/v1/members",
        {"external_id": "C-1", "email": "mei@example.com", "email_verified": "yes"},
    )
    assert_error(response, 422, "invalid")
    assert not Member.objects.exists()


def test_the_shop_verifying_an_existing_member_s_address_verifies_them():
    member = MemberFactory(user__email="mei@example.com", external_id="C-1", email_verified_at=None)

    found, created = member_enrol(external_id="C-1", email="mei@example.com", email_verified=True)

    assert (found, created) == (member, False)
    member.refresh_from_db()
    assert member.is_verified


def test_verifying_another_address_than_the_member_s_verifies_nothing():
    member = MemberFactory(user__email="mei@example.com", external_id="C-1", email_verified_at=None)

    member_enrol(external_id="C-1", email="other@example.com", email_verified=True)

    member.refresh_from_db()
    assert not member.is_verified


def test_an_unverified_portal_address_is_not_linked_to_the_shop_s_customer():
    portal = MemberFactory(user__email="mei@example.com", email_verified_at=None)

    found, _created = member_enrol(external_id="C-1", email="mei@example.com")

    portal.refresh_from_db()
    assert portal.external_id is None
    assert found == portal  # the address's member, but the customer id is not theirs
    assert not Member.objects.filter(external_id="C-1").exists()


def test_a_portal_verified_address_links_the_shop_s_customer():
    portal = MemberFactory(user__email="mei@example.com")  # verified in the portal

    found, created = member_enrol(external_id="C-1", email="mei@example.com")

    portal.refresh_from_db()
    assert (found, created, portal.external_id) == (portal, False, "C-1")


def test_a_shop_verified_address_links_and_locks_out_whoever_signed_up_unverified(client):
    portal = MemberFactory(user__email="mei@example.com", email_verified_at=None)
    assert portal.user.has_usable_password()
    client.force_login(portal.user)

    found, _created = member_enrol(external_id="C-1", email="mei@example.com", email_verified=True)

    portal.refresh_from_db()
    portal.user.refresh_from_db()
    assert (found, portal.external_id, portal.is_verified) == (portal, "C-1", True)
    assert not portal.user.has_usable_password()
    assert client.get("/me/").status_code == 302  # the old session no longer holds


def test_a_staff_user_s_address_never_gets_a_member(api_client):
    staff = UserFactory(email="boss@example.com", is_staff=True)

    response = post(
        api_client, "/api/v1/members", {"email": "boss@example.com", "email_verified": True}
    )

    assert_error(response, 422, "invalid")
    assert not Member.objects.filter(user=staff).exists()
    assert User.objects.count() == 1
