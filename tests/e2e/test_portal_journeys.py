"""The member's journeys through the portal in a real browser, as a shopper
would make them; redeem and sign-up by keyboard alone."""

import json
import re

import pytest
from django.core import mail

from campaigns.models import Referral
from members.models import Member
from notifications.models import Message
from rewards.models import Coupon
from tests.factories import PASSWORD, MemberFactory

from .portal import log_in, rich_member, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _tab_to(page, locator, limit=80):
    """Press Tab until `locator` has the focus (a keyboard user's way there)."""
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def test_sign_up_through_a_referral_link_by_keyboard_and_verify(page, live_server):
    referrer = MemberFactory()

    page.goto(f"{live_server.url}/r/{referrer.referral_code}")
    page.get_by_role("heading", name="A friend invited you to join").wait_for()
    _tab_to(page, page.get_by_role("link", name="Join for free"))
    page.keyboard.press("Enter")
    _tab_to(page, page.get_by_label("Email"))
    page.keyboard.type("friend@example.com")
    _tab_to(page, page.get_by_label("Password:", exact=True))
    page.keyboard.type(PASSWORD)
    _tab_to(page, page.get_by_label("Password (again):"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="My rewards").wait_for()

    referee = Member.objects.get(user__email="friend@example.com")
    assert referee.is_verified
    referral = Referral.objects.get(referee=referee)
    assert referral.referrer == referrer
    page.goto(f"{live_server.url}/me/referral/")
    assert f"/r/{referee.referral_code}" in page.get_by_test_id("referral-link").input_value()


def test_redeem_a_reward_by_keyboard_and_find_the_coupon_in_the_wallet(page, live_server):
    member = rich_member()
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/rewards/")
    before = set(Coupon.objects.filter(owner=member).values_list("code", flat=True))

    _tab_to(page, page.get_by_role("link", name=re.compile(r"Redeem\W+10 yuan off")))
    page.keyboard.press("Enter")
    # htmx opens the confirmation in the card, with the focus on its button.
    confirm = page.get_by_test_id("confirm-redeem")
    confirm.wait_for()
    assert "You will have 800 points left." in page.get_by_test_id("confirm").inner_text()
    # Chromium focuses an inserted [autofocus] element itself, at its next frame,
    # which can come before htmx has bound the form (its settle step, 20 ms
    # later); wait for htmx to have settled the form, then for the focus.
    page.locator("[data-testid=confirm]:not(.htmx-added)").wait_for()
    page.wait_for_function("document.activeElement.dataset.testid === 'confirm-redeem'")
    page.keyboard.press("Enter")
    page.get_by_test_id("redeemed").wait_for()
    screenshot(page, "journey-redeemed")

    (code,) = set(Coupon.objects.filter(owner=member).values_list("code", flat=True)) - before
    assert page.get_by_test_id("redeemed").get_by_test_id("coupon-code").inner_text() == code
    assert page.url.endswith("/me/rewards/")  # no reload: the card answered in place
    # ...and the balance line above the cards says what is left (1,800 - 1,000),
    # and what the other cards lack counts from it.
    assert "You have 800 points to spend." in page.get_by_test_id("rewards-balance").inner_text()
    espresso = page.get_by_test_id("reward").filter(has_text="Espresso machine")
    assert "You need 98,200 more points." in espresso.inner_text()
    page.get_by_role("link", name="Go to your wallet").click()
    assert code in page.locator("#wallet").inner_text()


def test_redeem_without_javascript(browser, live_server):
    member = rich_member()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/rewards/")

    page.get_by_role("link", name=re.compile(r"Redeem\W+10 yuan off")).click()
    page.get_by_role("button", name="Yes, redeem").click()

    code = Coupon.objects.filter(owner=member).order_by("-id").first().code
    assert "/me/rewards/redeemed/" in page.url
    assert page.get_by_test_id("coupon-code").inner_text() == code
    context.close()


def test_filter_the_history(page, live_server):
    member = rich_member()
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/points/")
    assert page.get_by_test_id("entry").count() == 4

    page.get_by_label("Show").select_option("spent")
    page.wait_for_url(re.compile(r"kind=spent"))
    page.wait_for_function("document.querySelectorAll('[data-testid=entry]').length === 2")

    texts = page.get_by_test_id("entry").all_inner_texts()
    assert all("Spent on" in text for text in texts)


def test_read_a_message(page, live_server):
    member = rich_member()
    log_in(page, live_server, member)
    unread = page.get_by_test_id("count-notifications-inbox")
    assert unread.inner_text().startswith("1")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Inbox")
    ).click()
    page.get_by_role("button", name=re.compile("Mark as read")).click()
    unread.wait_for(state="detached")  # htmx swapped the navigation's count out

    message = Message.objects.get(member=member, context__code="INBOXCODE1")
    assert message.read_at is not None
    page.get_by_role("link", name=re.compile("Your coupon")).first.click()
    assert "INBOXCODE" in page.get_by_test_id("message-body").inner_text()


def test_change_language_and_the_page_and_preference_follow(page, live_server):
    member = rich_member()
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/rewards/")
    assert page.get_by_role("heading", level=1).inner_text() == "Rewards"

    page.get_by_label("Language").select_option("zh-hant")
    page.get_by_role("button", name="Change").click()

    page.wait_for_url(f"{live_server.url}/me/rewards/")
    assert page.locator("html").get_attribute("lang") == "zh-hant"
    assert "10元優惠券" in page.locator("main").inner_text()
    member.refresh_from_db()
    assert member.language == "zh-hant"


def test_download_the_data_export_and_find_the_orders(page, live_server):
    member = rich_member()
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/privacy/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download (JSON)").click()

    with open(download.value.path(), encoding="utf-8") as file:
        data = json.load(file)
    assert data["member"]["number"] == member.number
    assert [order["order_id"] for order in data["orders"]] == ["SO-2335"]
    assert data["orders"][0]["total"] == "2335.00"
    assert len(data["ledger"]) >= 3 and data["coupons"] and data["messages"]


def test_close_the_account_and_fail_to_log_in_again(page, live_server):
    member = rich_member()
    email = member.user.email
    log_in(page, live_server, member)
    page.goto(f"{live_server.url}/me/privacy/")

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Close my account").click()
    page.get_by_text("Your account is closed.").wait_for()

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    assert "/me/" not in page.url
    member.refresh_from_db()
    assert member.status == Member.Status.CLOSED and member.user.email is None
