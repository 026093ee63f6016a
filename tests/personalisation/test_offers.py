"""Personal offers: the rewards ordered for the member, the dashboard's For you
panel."""

import pytest
from django.urls import reverse

from personalisation.models import MemberTag
from rewards.selectors import rewards_for_member, rewards_list
from tests.rewards.conftest import make_reward, member_with_points

pytestmark = pytest.mark.django_db


def test_redeemable_first_then_their_categories_then_the_dearest_they_can_afford():
    member = member_with_points(3000)
    MemberTag.objects.create(member=member, tag="category:Tea", source="rule")
    cheap = make_reward(code="CUP-OFF", name="Cup discount", points=500)
    dear = make_reward(code="BIG-OFF", name="Big discount", points=2500)
    tea = make_reward(code="TEA-GIFT", name="Tea sampler", points=1000)
    too_dear = make_reward(code="TEA-SET", name="Tea set", points=9000)
    assert rewards_list(member=member)[0].reward == cheap  # cheapest first there

    ordered = [offer.reward for offer in rewards_for_member(member=member)]

    assert ordered == [tea, dear, cheap, too_dear]


def test_the_rewards_page_shows_them_in_the_members_order(client):
    member = member_with_points(3000)
    MemberTag.objects.create(member=member, tag="category:Tea", source="rule")
    make_reward(code="CUP-OFF", name="Cup discount", points=500)
    make_reward(code="BIG-OFF", name="Big discount", points=2500)
    make_reward(code="TEA-GIFT", name="Tea sampler", points=1000)
    make_reward(code="TEA-SET", name="Tea set", points=9000)
    client.force_login(member.user)

    html = client.get(reverse("rewards:rewards")).content.decode()

    shown = sorted(["Cup discount", "Big discount", "Tea sampler", "Tea set"], key=html.index)
    assert shown == ["Tea sampler", "Big discount", "Cup discount", "Tea set"]


def test_the_dashboard_shows_the_for_you_panel(client):
    member = member_with_points(3000)
    make_reward(code="TEA-GIFT", name="Tea sampler", points=1000)
    make_reward(code="TOO-DEAR", name="Golden kettle", points=90_000)
    client.force_login(member.user)

    page = client.get(reverse("members:dashboard"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="for-you"' in html
    assert "Tea sampler" in html
    assert "Golden kettle" not in html
