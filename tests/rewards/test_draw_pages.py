"""The points draw in the portal (the odds before playing, a play, past plays)
and in the admin (prizes, plays and the realised odds)."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from rewards.models import DrawPlay, DrawPrize, Reward
from tests.factories import UserFactory

from .conftest import member_with_points
from .draws import COUPON, make_draw

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_odds_and_a_play_shows_what_was_won(client):
    member = member_with_points(500)
    draw = make_draw(
        {"name": "Tea", "name_zh_hans": "茶", "kind": "gift", "chance": "100", "stock": 2},
        points=200,
    )
    client.force_login(member.user)

    page = client.get(reverse("draws:draws")).content.decode()
    assert "Tea" in page and "100.00%" in page and "0.00%" in page
    assert "One play costs 200 points." in page
    key = page.split('name="key" value="')[1].split('"')[0]

    answer = client.post(reverse("draws:play", args=[draw.code]), {"key": key}, follow=True)

    assert "You won Tea: we will send it to you." in answer.content.decode()
    play = DrawPlay.objects.get(member=member)
    assert play.status == DrawPlay.Status.TO_SHIP
    assert DrawPrize.objects.get(reward=draw).stock == 1
    assert "draw-plays" in answer.content.decode()
    # The same form sent again plays once.
    client.post(reverse("draws:play", args=[draw.code]), {"key": key})
    assert DrawPlay.objects.filter(member=member).count() == 1

    chinese = client.get(reverse("draws:draws"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "茶" in chinese.content.decode()


def test_a_member_short_of_points_sees_why_and_a_forced_play_writes_nothing(client):
    member = member_with_points(100)
    draw = make_draw({"kind": "coupon", "chance": "100", "coupon": COUPON}, points=200)
    client.force_login(member.user)

    page = client.get(reverse("draws:draws")).content.decode()
    assert "You need 200 points to play Lucky draw." in page
    assert reverse("draws:play", args=[draw.code]) not in page

    answer = client.post(reverse("draws:play", args=[draw.code]), {"key": "x"}, follow=True)
    assert answer.status_code == 200
    assert "You need 200 points to play Lucky draw." in answer.content.decode()
    assert not DrawPlay.objects.exists()


def test_a_play_without_its_key_is_refused_with_a_message(client):
    member = member_with_points(1000)
    draw = make_draw({"kind": "points", "chance": "50", "points": 5})
    client.force_login(member.user)

    answer = client.post(reverse("draws:play", args=[draw.code]), {}, follow=True)

    assert "The form was incomplete" in answer.content.decode()
    assert not DrawPlay.objects.exists()


def test_the_admin_edits_prizes_and_shows_plays_and_realised_odds(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    member = member_with_points(1000)
    draw = make_draw({"name": "Tea", "kind": "gift", "chance": "40", "stock": 5})
    client.force_login(member.user)
    client.post(reverse("draws:play", args=[draw.code]), {"key": "a"})
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    prize = DrawPrize.objects.get(reward=draw)
    drew_tea = DrawPlay.objects.get().prize_id == prize.pk

    page = client.get(reverse("admin:rewards_reward_change", args=[draw.pk])).content.decode()
    assert "1 play so far." in page
    assert "40.00%" in page and ("100.00%" in page)
    assert client.get(reverse("admin:rewards_drawplay_changelist")).status_code == 200
    play = DrawPlay.objects.get()
    assert client.get(reverse("admin:rewards_drawplay_change", args=[play.pk])).status_code == 200

    form = {
        "code": draw.code,
        "name": draw.name,
        "points": draw.points,
        "active": "on",
        "prizes-TOTAL_FORMS": "2",
        "prizes-INITIAL_FORMS": "1",
        "prizes-0-id": prize.pk,
        "prizes-0-reward": draw.pk,
        "prizes-0-name": "Tea",
        "prizes-0-kind": "gift",
        "prizes-0-chance": "40",
        "prizes-0-active": "on",
        "prizes-0-stock": "99",  # disabled: ignored
        "prizes-0-add_stock": "3",
        "prizes-1-reward": draw.pk,
        "prizes-1-name": "Points",
        "prizes-1-kind": "points",
        "prizes-1-chance": "70",
        "prizes-1-points": "50",
        "prizes-1-active": "on",
    }
    url = reverse("admin:rewards_reward_change", args=[draw.pk])
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "at most 100% in all" in refused.content.decode()

    form["prizes-1-chance"] = "60"
    assert client.post(url, form).status_code == 302
    prize.refresh_from_db()
    assert prize.stock == 5 - drew_tea + 3
    added = DrawPrize.objects.get(reward=draw, name="Points")
    assert added.points == 50 and added.stock is None


def test_a_prize_needs_what_its_kind_gives(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {
        "code": "new-draw",
        "name": "New draw",
        "kind": "draw",
        "points": "100",
        "active": "on",
        "prizes-TOTAL_FORMS": "1",
        "prizes-INITIAL_FORMS": "0",
        "prizes-0-name": "Coupon",
        "prizes-0-kind": "coupon",
        "prizes-0-chance": "10",
        "prizes-0-active": "on",
    }
    add = reverse("admin:rewards_reward_add")
    # A new reward's page has no prizes yet: they are added once it is a draw.
    assert client.post(add, {k: v for k, v in form.items() if "prizes" not in k}).status_code == 302
    draw = Reward.objects.get(code="new-draw")
    url = reverse("admin:rewards_reward_change", args=[draw.pk])
    form.pop("kind")
    answer = client.post(url, form)
    assert "A coupon prize needs the coupon it issues." in answer.content.decode()
    assert not DrawPrize.objects.exists()


def test_staff_ship_a_gift_won_and_the_member_is_told_and_sees_it_shipped(
    client, django_capture_on_commit_callbacks
):
    member = member_with_points(1000)
    draw = make_draw({"name": "Tea set", "kind": "gift", "chance": "100"})
    client.force_login(member.user)
    client.post(reverse("draws:play", args=[draw.code]), {"key": "a"})
    play = DrawPlay.objects.get()
    assert "Being prepared" in client.get(reverse("draws:draws")).content.decode()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = reverse("admin:rewards_drawplay_change", args=[play.pk])
    ship = reverse("admin:rewards_drawplay_ship", args=[play.pk])
    assert ship in client.get(change).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ship, {"note": "SF Express SF1234567890"})

    assert response.status_code == 302
    play.refresh_from_db()
    assert play.status == DrawPlay.Status.SHIPPED and play.shipped_at is not None
    assert play.shipping_note == "SF Express SF1234567890"
    assert ship not in client.get(change).content.decode()
    [email] = mail.outbox
    assert email.to == [member.user.email]
    assert "Tea set" in email.subject
    assert "you won in a points draw" in email.body and "SF1234567890" in email.body

    again = client.post(ship, {"note": "twice"})
    assert again.status_code == 200
    assert "not a gift waiting to be shipped" in again.content.decode()
    assert len(mail.outbox) == 1

    client.force_login(member.user)
    draws = client.get(reverse("draws:draws")).content.decode()
    assert "Shipped" in draws and "SF Express SF1234567890" in draws
    assert "Being prepared" not in draws
    gifts = client.get(reverse("rewards:coupons") + "?show=gifts").content.decode()
    assert "Tea set" in gifts and "Won in Lucky draw" in gifts
    assert "Shipped" in gifts and "SF Express SF1234567890" in gifts


def test_shipping_a_gift_won_needs_the_permission_and_a_play_without_a_gift_has_none(client):
    member = member_with_points(1000)
    gift = make_draw({"kind": "gift", "chance": "100"})
    points = make_draw({"kind": "points", "chance": "100", "points": 5})
    client.force_login(member.user)
    client.post(reverse("draws:play", args=[gift.code]), {"key": "g"})
    client.post(reverse("draws:play", args=[points.code]), {"key": "p"})
    to_ship = DrawPlay.objects.get(reward=gift)
    won = DrawPlay.objects.get(reward=points)

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_drawplay"))
    client.force_login(viewer)
    ship = reverse("admin:rewards_drawplay_ship", args=[to_ship.pk])
    assert (
        ship
        not in client.get(
            reverse("admin:rewards_drawplay_change", args=[to_ship.pk])
        ).content.decode()
    )
    assert client.post(ship, {"note": "x"}).status_code == 403
    assert DrawPlay.objects.get(pk=to_ship.pk).status == DrawPlay.Status.TO_SHIP

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:rewards_drawplay_change", args=[won.pk])).content.decode()
    assert reverse("admin:rewards_drawplay_ship", args=[won.pk]) not in page
    refused = client.post(reverse("admin:rewards_drawplay_ship", args=[won.pk]), {"note": "x"})
    assert "not a gift waiting to be shipped" in refused.content.decode()
    assert DrawPlay.objects.get(pk=won.pk).status == DrawPlay.Status.WON
    assert not mail.outbox
