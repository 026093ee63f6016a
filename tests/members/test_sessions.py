"""A member who may no longer log in loses their open sessions at once: the next
request of a live portal session after a freeze (or a closure) is logged out."""

import pytest
from django.urls import reverse

from members.models import Member, Sanction
from members.services import member_sanction
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sanction(member, kind):
    member_sanction(member=member, kind=kind, reason="review", actor=UserFactory(is_staff=True))


def _logged_in(client, member):
    client.force_login(member.user)
    assert client.get(reverse("members:dashboard")).status_code == 200
    assert "_auth_user_id" in client.session


def test_a_frozen_members_live_session_is_logged_out_on_the_next_request(client):
    member = MemberFactory()
    _logged_in(client, member)

    _sanction(member, Sanction.Kind.FREEZE)
    response = client.get(reverse("points:history"))

    assert response.status_code == 302
    assert response.url == reverse("account_inactive")
    assert "_auth_user_id" not in client.session
    again = client.get(reverse("members:dashboard"))
    assert again.url.startswith(reverse("account_login"))


def test_a_closed_members_live_session_ends_too(client):
    member = MemberFactory()
    _logged_in(client, member)

    Member.objects.filter(pk=member.pk).update(status=Member.Status.CLOSED)
    response = client.post(reverse("members:profile"), {"first_name": "Changed"})

    assert response.url == reverse("account_inactive")
    assert "_auth_user_id" not in client.session
    member.user.refresh_from_db()
    assert member.user.first_name != "Changed"


def test_a_restricted_member_stays_logged_in(client):
    member = MemberFactory()
    _logged_in(client, member)

    _sanction(member, Sanction.Kind.RESTRICT)

    assert client.get(reverse("members:dashboard")).status_code == 200
    assert "_auth_user_id" in client.session


def test_staff_without_a_member_keep_their_session(admin_client):
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/").status_code == 200
