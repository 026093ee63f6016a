"""The e-mail a member gets when a reward issues their coupon, in their language."""

import pytest
from django.core import mail

from notifications.models import Message
from rewards.services.rewards import reward_redeem
from shop.selectors import shop_default

from .conftest import make_reward, member_with_points

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("en", "Your coupon for 10 yuan off", "Use it at checkout by"),
        ("zh-hans", "您的减10元优惠券", "请在"),
        ("zh-hant", "您的減10元優惠券", "請在"),
    ],
)
def test_the_coupon_e_mail_is_in_the_members_language(
    django_capture_on_commit_callbacks, language, subject, phrase
):
    member = member_with_points(5000, language=language)
    reward = make_reward(name="10 yuan off", name_zh_hans="减10元", name_zh_hant="減10元")

    with django_capture_on_commit_callbacks(execute=True):
        redemption, _ = reward_redeem(
            shop=shop_default(), member=member, reward_code=reward.code, key="k"
        )

    (message,) = mail.outbox
    assert message.subject == subject
    assert redemption.coupon.code in message.body
    assert phrase in message.body
    assert message.to == [member.user.email]


def test_a_replay_and_a_gift_queue_no_second_message(django_capture_on_commit_callbacks):
    member = member_with_points(5000)
    reward = make_reward()
    gift = make_reward(kind="gift", coupon=None)
    with django_capture_on_commit_callbacks(execute=True):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
        reward_redeem(shop=shop_default(), member=member, reward_code=gift.code, key="g")
    assert Message.objects.count() == 1
    assert len(mail.outbox) == 1
