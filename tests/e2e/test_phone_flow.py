"""A shopper joins with an e-mail and a mobile number, verifies the number with
the code texted to it (read from the SMS file backend) and the e-mail with its
link, logs out, and signs in again with a code texted to the number."""

import re

import pytest
from django.core import mail

from members.models import Member
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def texted_code(directory):
    newest = max(directory.iterdir(), key=lambda path: path.name)
    return re.search(r"\b(\d{6})\b", newest.read_text()).group(1)


def test_shopper_joins_with_a_phone_and_signs_in_with_a_texted_code(
    page, live_server, settings, tmp_path
):
    settings.SMS_URL = f"file://{tmp_path}/sms"
    texts = tmp_path / "sms"

    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("mobile@example.com")
    page.get_by_label("Phone").fill("138 0013 8000")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    page.get_by_role("heading", name="Enter Phone Verification Code").wait_for()
    page.get_by_label("Code").fill(texted_code(texts))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    member = Member.objects.get(user__email="mobile@example.com")
    assert member.phone == "+8613800138000" and member.phone_verified_at is not None
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Send me a sign-in code").click()
    page.get_by_label("Phone").fill("+86 138 0013 8000")
    page.get_by_role("button", name="Request Code").click()
    page.get_by_role("heading", name="Enter Sign-In Code").wait_for()
    page.get_by_label("Code").fill(texted_code(texts))
    page.get_by_role("button", name="Confirm").click()

    page.get_by_test_id("member-number").wait_for()
    assert page.get_by_test_id("member-number").inner_text() == member.number
