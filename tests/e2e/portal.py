"""What the portal's browser tests share: a member with something on every
page, logging in, axe-core and screenshots."""

import datetime as dt
from pathlib import Path

from django.utils import timezone

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.referrals import referral_record
from points.models import Entry
from points.services import Source, points_earn
from rewards.models import Reward
from rewards.services.rewards import reward_redeem
from shop.selectors import shop_default
from tests.campaigns.documents import campaign_doc
from tests.factories import PASSWORD, MemberFactory, order_place
from tests.portal.helpers import inbox_message, make_reward
from tiers.models import PaidPlan, Tier

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}
LANGUAGES = ["en", "zh-hans", "zh-hant"]


def rich_member(*, language=""):
    """A member with points, orders, rewards to redeem or not, coupons, a gift,
    messages, referrals and a paid plan on offer."""
    member = MemberFactory(language=language, birthday=dt.date(1990, 5, 17))
    member.user.first_name = "Mei"
    member.user.save()
    campaign_save(
        document=document_parse(
            campaign_doc(
                "referral",
                code="friends",
                name="Bring a friend",
                name_zh_hans="好友推荐",
                name_zh_hant="好友推薦",
            )
        )
    )
    order_place(member, 233500, order_id="SO-2335", placed_at=timezone.now() - dt.timedelta(days=3))
    points_earn(member=member, points=3000, source=Source(Entry.Source.STAFF, "1"), key="seed")
    make_reward(
        "ten-off",
        points=1000,
        name="10 yuan off",
        name_zh_hans="10元优惠券",
        name_zh_hant="10元優惠券",
        description="Ten yuan off an order of fifty or more.",
        description_zh_hans="满50元减10元。",
        description_zh_hant="滿50元折10元。",
    )
    make_reward(
        "big-gift",
        points=99000,
        name="Espresso machine",
        name_zh_hans="咖啡机",
        name_zh_hant="咖啡機",
        kind=Reward.Kind.GIFT,
        coupon=None,
    )
    make_reward(
        "gold-tea",
        points=500,
        name="Gold tea",
        name_zh_hans="金卡茶礼",
        name_zh_hant="金卡茶禮",
        min_tier=Tier.objects.get(code="gold"),
    )
    make_reward(
        "mug",
        points=200,
        name="Mug",
        name_zh_hans="马克杯",
        name_zh_hant="馬克杯",
        kind=Reward.Kind.GIFT,
        coupon=None,
    )
    reward_redeem(shop=shop_default(), member=member, reward_code="mug", key="seed-mug")
    reward_redeem(shop=shop_default(), member=member, reward_code="ten-off", key="seed-ten")
    PaidPlan.objects.get_or_create(
        code="plus",
        defaults={
            "name": "Plus",
            "name_zh_hans": "Plus会员",
            "name_zh_hant": "Plus會員",
            "sku": "PLUS-1Y",
            "price_minor": 19900,
            "free_shipping": True,
        },
    )
    for _ in range(2):
        referral_record(referee=MemberFactory(), referrer=member)
    inbox_message(member, code="INBOXCODE1")
    inbox_message(member, code="INBOXCODE2", read=True)
    return member


def log_in(page, live_server, member, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=login]").fill(member.user.email)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{live_server.url}/me/")


def axe_violations(page):
    """axe-core's serious and critical WCAG 2.1 A and AA violations on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(node["target"][0] for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
