"""Every portal page in each language, on a wide and a narrow screen: axe-core
finds no serious or critical WCAG 2.1 AA violation, and a screenshot of each is
kept under tests/e2e/screenshots/ (not committed) to be looked at."""

import pytest

from notifications.models import Message
from rewards.models import RewardRedemption

from .portal import LANGUAGES, VIEWPORTS, axe_violations, log_in, rich_member, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPT = {"en": "en-US", "zh-hans": "zh-CN", "zh-hant": "zh-TW"}


def _pages(member):
    message = Message.objects.filter(member=member, channel="inbox").first()
    redemption = RewardRedemption.objects.filter(member=member, coupon__isnull=False).first()
    return {
        "dashboard": "/me/",
        "points": "/me/points/",
        "points-filtered": "/me/points/?kind=spent",
        "tier": "/me/tier/",
        "rewards": "/me/rewards/",
        "redeem-confirm": "/me/rewards/ten-off/",
        "redeemed": f"/me/rewards/redeemed/{redemption.public_id}/",
        "coupons": "/me/coupons/",
        "coupons-gifts": "/me/coupons/?show=gifts",
        "referral": "/me/referral/",
        "inbox": "/me/inbox/",
        "inbox-message": f"/me/inbox/{message.pk}/",
        "profile": "/me/profile/",
        "privacy": "/me/privacy/",
    }


PUBLIC = {
    "home": "/",
    "referral-landing": "/r/{code}",
    "signup": "/accounts/signup/",
    "login": "/accounts/login/",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_portal_page_passes_axe_in_each_language(browser, live_server, language):
    member = rich_member(language=language)
    found = {}
    for viewport_name, viewport in VIEWPORTS.items():
        # axe is injected as a script of the test's own: the page's policy would refuse it.
        context = browser.new_context(viewport=viewport, bypass_csp=True, locale=ACCEPT[language])
        page = context.new_page()
        page.set_default_timeout(15_000)
        for name, path in PUBLIC.items():
            page.goto(live_server.url + path.format(code=member.referral_code))
            assert page.locator("html").get_attribute("lang") == language, (name, path)
            if problems := axe_violations(page):
                found[f"{name} {viewport_name}"] = problems
            screenshot(page, f"{name}-{language}-{viewport_name}")
        log_in(page, live_server, member)
        for name, path in _pages(member).items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, (name, path)
            assert page.locator("html").get_attribute("lang") == language
            if problems := axe_violations(page):
                found[f"{name} {viewport_name}"] = problems
            screenshot(page, f"{name}-{language}-{viewport_name}")
        context.close()

    assert not found, found
