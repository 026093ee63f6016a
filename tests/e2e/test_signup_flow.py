import re

import pytest
from django.core import mail

from members.models import Member
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_shopper_signs_up_verifies_logs_in_and_sees_member_number(page, live_server):
    page.goto(live_server.url)
    page.get_by_role("link", name="Join for free").click()

    page.get_by_label("Email").fill("shopper@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    # Confirming logs the shopper in; log out and back in as a returning shopper would.
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("shopper@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    member = Member.objects.get(user__email="shopper@example.com")
    assert member.is_verified
    page.get_by_role("heading", name="My rewards").wait_for()
    assert page.get_by_test_id("member-number").inner_text() == member.number
