import re

import pytest
from django.core import mail
from django.urls import reverse

from members.models import Member, User
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db


def _sign_up(client, email="new@example.com"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_sign_up_makes_one_unverified_member_with_number_and_referral_code(client):
    response = _sign_up(client)

    assert response.status_code == 302
    member = Member.objects.get()
    assert member.user.email == "new@example.com"
    assert re.fullmatch(r"M\d{8}", member.number)
    assert str(member.pk) != member.number.lstrip("M0")
    assert re.fullmatch(r"[A-Z2-9]{8}", member.referral_code)
    assert member.status == Member.Status.ACTIVE
    assert not member.is_verified
    assert len(mail.outbox) == 1
    assert "new@example.com" in mail.outbox[0].to


def test_following_the_verification_link_marks_the_member_verified(client):
    _sign_up(client)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)

    client.post(link)

    assert Member.objects.get().is_verified


def test_sign_up_with_a_members_email_answers_as_a_new_one_and_mails_the_owner(client):
    member = MemberFactory()
    new = _sign_up(client, email="someone-new@example.com")
    client.logout()
    mail.outbox.clear()

    taken = _sign_up(client, email=member.user.email.upper())

    # Nothing on the page tells whether the e-mail is a member's ...
    assert taken.status_code == new.status_code == 302
    assert taken.url == new.url
    assert User.objects.filter(email__iexact=member.user.email).count() == 1
    assert Member.objects.count() == 2
    # ... the owner of the address is told instead.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.user.email]
    assert "already" in mail.outbox[0].body


def test_password_reset_answers_the_same_for_an_unknown_email(client):
    member = MemberFactory()

    known = client.post(reverse("account_reset_password"), {"email": member.user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url


def test_unverified_member_cannot_log_in_until_verified(client):
    _sign_up(client)
    client.logout()

    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("status", [Member.Status.FROZEN, Member.Status.CLOSED])
def test_frozen_or_closed_member_cannot_log_in(client, status):
    member = MemberFactory(status=status)

    response = client.post(
        reverse("account_login"), {"login": member.user.email, "password": PASSWORD}
    )

    assert "_auth_user_id" not in client.session
    assert response.status_code == 302
    assert response.url == reverse("account_inactive")


def test_active_verified_member_logs_in_to_the_dashboard(client):
    member = MemberFactory()

    response = client.post(
        reverse("account_login"), {"login": member.user.email, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("members:dashboard")
    assert member.number in response.content.decode()


def test_logout_needs_a_post(client):
    member = MemberFactory()
    client.force_login(member.user)

    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session

    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
