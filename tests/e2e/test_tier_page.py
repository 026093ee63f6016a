import datetime as dt

import pytest
from django.utils import timezone

from campaigns.services import OrderInput, order_record
from shop.selectors import shop_default
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_sees_their_tier_and_progress_to_the_next(page, live_server):
    member = MemberFactory()
    order_record(
        shop=shop_default(),
        data=OrderInput(
            order_id="e2e-1",
            member_number=member.number,
            placed_at=timezone.now() - dt.timedelta(days=2),
            currency="CNY",
            total_minor=150_000,
        ),
        fingerprint="e2e-1",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(member.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="My rewards").wait_for()
    assert page.get_by_test_id("tier-badge").inner_text() == "Silver"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tier").click()
    page.get_by_role("heading", name="Your tier").wait_for()
    assert page.get_by_test_id("tier-spend").inner_text().startswith("¥1,500.00")
    assert page.get_by_test_id("tier-next").inner_text() == "Spend ¥3,500.00 more to reach Gold."
    assert page.locator("progress.tier-progress").get_attribute("value") == "30"
    assert page.locator("tr[aria-current=true] th").inner_text() == "Silver"
