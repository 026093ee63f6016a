"""Phone sign-up and login through allauth's phone support: the number kept in
E.164 on the member, verified by a 6-digit code sent by SMS (read here from the
file backend), the code kept hashed, valid 5 minutes, 5 wrong tries end it, and
only a verified number signs in; a member keeps both e-mail and phone."""

import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from members.codes import code_digest
from members.models import Member
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


@pytest.fixture
def texts(settings, tmp_path):
    settings.SMS_URL = f"file://{tmp_path}/sms"
    return tmp_path / "sms"


def last_code(texts):
    newest = max(texts.iterdir(), key=lambda path: path.name)
    return re.search(r"\b(\d{6})\b", newest.read_text()).group(1)


def test_signing_up_with_a_phone_verifies_it_by_a_texted_code(client, texts):
    answer = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "phone": "138 0013 8000",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert answer.status_code == 302 and answer.url == reverse("account_verify_phone")
    member = Member.objects.get()
    assert (member.phone, member.phone_verified_at) == (PHONE, None)
    text = next(texts.iterdir()).read_text()
    assert text.startswith(f"To: {PHONE}\n\n【Loyalty】Your code is ")
    code = last_code(texts)

    # The session holds a digest of the code, never the code.
    stored = "".join(str(s.get_decoded()) for s in Session.objects.all())
    assert code not in stored and code_digest(code) in stored

    client.post(reverse("account_verify_phone"), {"code": code})

    member.refresh_from_db()
    assert member.phone_verified_at is not None
    assert member.user.email == "new@example.com"  # both kept


def test_five_wrong_codes_end_the_code(client, texts):
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "phone": PHONE, "password1": PASSWORD, "password2": PASSWORD},
    )
    code = last_code(texts)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        answer = client.post(reverse("account_verify_phone"), {"code": wrong})
        assert answer.status_code == 200  # the form again, with the error

    fifth = client.post(reverse("account_verify_phone"), {"code": wrong})
    assert fifth.status_code == 302
    # The right code no longer works: the attempt is over.
    client.post(reverse("account_verify_phone"), {"code": code})
    assert Member.objects.get().phone_verified_at is None


def test_a_verified_number_signs_in_with_a_texted_code(client, texts):
    member = MemberFactory(phone=PHONE, phone_verified_at=timezone.now())

    answer = client.post(reverse("account_request_login_code"), {"phone": "13800138000"})
    assert answer.status_code == 302
    code = last_code(texts)
    answer = client.post(reverse("account_confirm_login_code"), {"code": code})

    assert answer.status_code == 302
    assert int(client.session["_auth_user_id"]) == member.user.pk


def test_a_login_code_expires_after_five_minutes(client, texts):
    MemberFactory(phone=PHONE, phone_verified_at=timezone.now())
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("account_request_login_code"), {"phone": PHONE})
        code = last_code(texts)
        clock.shift(301)
        client.post(reverse("account_confirm_login_code"), {"code": code})
    assert "_auth_user_id" not in client.session


def test_an_unverified_number_does_not_sign_in(client, texts):
    MemberFactory(phone=PHONE)

    client.post(reverse("account_request_login_code"), {"phone": PHONE})

    assert "no account" in next(texts.iterdir()).read_text()
    assert "_auth_user_id" not in client.session


def test_a_verified_number_and_the_password_sign_in_too(client, texts):
    member = MemberFactory(phone=PHONE, phone_verified_at=timezone.now())
    member.user.set_password(PASSWORD)
    member.user.save()

    client.post(reverse("account_login"), {"login": "+86 138 0013 8000", "password": PASSWORD})

    assert int(client.session["_auth_user_id"]) == member.user.pk


def test_a_number_that_is_not_one_is_refused_at_sign_up(client, texts):
    answer = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "phone": "12345",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert answer.status_code == 200
    assert "Enter a valid mobile number" in answer.content.decode()
    assert not Member.objects.exists()


def test_a_member_adds_a_number_from_the_profile_and_verifies_it(client, texts):
    member = MemberFactory()
    member.user.set_password(PASSWORD)
    member.user.save()
    client.force_login(member.user)
    assert "Add a mobile number" in client.get(reverse("members:profile")).content.decode()

    # allauth asks for the password again before a change of number.
    client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})
    answer = client.post(reverse("account_change_phone"), {"phone": "13800138000"})
    assert answer.status_code == 302
    client.post(reverse("account_verify_phone"), {"code": last_code(texts)})

    member.refresh_from_db()
    assert member.phone == PHONE and member.phone_verified_at is not None
    page = client.get(reverse("members:profile")).content.decode()
    assert PHONE in page and "(verified)" in page
