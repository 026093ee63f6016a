import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from batch.services import program_today
from tests.factories import MemberFactory, UserFactory, order_place
from tiers.models import MemberTier, Tier, TierChange

pytestmark = pytest.mark.django_db


def _staff(*perms):
    user = UserFactory(is_staff=True)
    codenames = ["view_member", "change_member", "view_tier", "change_tier", *perms]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _override(client, member, tier="gold", until=None, reason="VIP by the store manager"):
    url = reverse("admin:members_member_override_tier", args=[member.pk])
    until = until or program_today() + dt.timedelta(days=90)
    return client.post(
        url, {"tier": Tier.objects.get(code=tier).pk, "until": until, "reason": reason}
    )


def test_staff_with_permission_override_a_members_tier_with_a_reason(client):
    member = MemberFactory()
    staff = _staff("override_tier")
    client.force_login(staff)
    until = program_today() + dt.timedelta(days=90)

    response = _override(client, member, until=until)

    assert response.status_code == 302
    state = MemberTier.objects.get(member=member)
    assert (state.tier.code, state.override_tier.code, state.override_until) == (
        "gold",
        "gold",
        until,
    )
    change = TierChange.objects.get(member=member)
    assert (change.reason, change.from_tier.code, change.to_tier.code, change.actor) == (
        "override",
        "member",
        "gold",
        staff,
    )
    assert "VIP by the store manager" in change.note


def test_override_without_the_permission_is_refused(client):
    member = MemberFactory()
    client.force_login(_staff())

    assert _override(client, member).status_code == 403
    assert not TierChange.objects.exists()


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("reason", {"reason": "  "}),
        ("until", {"until": dt.date(2020, 1, 1)}),
        ("until", {"until": "not a date"}),
    ],
)
def test_a_bad_override_is_a_form_error_and_changes_nothing(client, field, changes):
    member = MemberFactory()
    client.force_login(_staff("override_tier"))

    response = _override(client, member, **changes)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not TierChange.objects.exists()
    assert not MemberTier.objects.filter(member=member).exists()


def test_member_page_shows_the_tier_and_its_history(client):
    member = MemberFactory()
    client.force_login(_staff("override_tier", "view_tierchange"))
    _override(client, member, tier="silver")

    response = client.get(reverse("admin:members_member_change", args=[member.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Silver; qualifying spend ¥0.00 in 0 orders" in page
    assert "VIP by the store manager" in page
    assert reverse("admin:members_member_override_tier", args=[member.pk]) in page


def test_the_lowest_tier_cannot_require_spend(client):
    client.force_login(_staff())
    lowest = Tier.objects.get(code="member")
    url = reverse("admin:tiers_tier_change", args=[lowest.pk])

    response = client.post(
        url,
        {
            "code": "member",
            "name": "Member",
            "rank": 0,
            "threshold_minor": 100,
            "min_orders": 0,
            "multiplier": "1.0",
            "discount_percent": 0,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    lowest.refresh_from_db()
    assert lowest.threshold_minor == 0


def test_tier_thresholds_are_editable(client):
    client.force_login(_staff())
    gold = Tier.objects.get(code="gold")

    response = client.post(
        reverse("admin:tiers_tier_change", args=[gold.pk]),
        {
            "code": "gold",
            "name": "Gold",
            "rank": 2,
            "threshold_minor": 400_000,
            "min_orders": 0,
            "multiplier": "1.5",
            "discount_percent": 5,
        },
    )

    assert response.status_code == 302
    gold.refresh_from_db()
    assert gold.threshold_minor == 400_000


def test_tier_names_and_descriptions_are_edited_per_language(client):
    client.force_login(_staff())
    gold = Tier.objects.get(code="gold")

    response = client.post(
        reverse("admin:tiers_tier_change", args=[gold.pk]),
        {
            "code": "gold",
            "name": "Gold",
            "name_zh_hans": "金卡",
            "name_zh_hant": "金卡會員",
            "description": "Free shipping on every order.",
            "description_zh_hans": "所有订单免运费。",
            "description_zh_hant": "所有訂單免運費。",
            "rank": 2,
            "threshold_minor": gold.threshold_minor,
            "min_orders": 0,
            "multiplier": "1.5",
            "discount_percent": 5,
        },
    )

    assert response.status_code == 302
    gold.refresh_from_db()
    assert (gold.name_zh_hant, gold.description, gold.description_zh_hans) == (
        "金卡會員",
        "Free shipping on every order.",
        "所有订单免运费。",
    )


def test_the_lowest_tier_cannot_be_deleted_but_another_can(client):
    staff = _staff("delete_tier")
    client.force_login(staff)
    lowest, diamond = Tier.objects.get(code="member"), Tier.objects.get(code="diamond")

    refused = client.post(reverse("admin:tiers_tier_delete", args=[lowest.pk]), {"post": "yes"})
    allowed = client.post(reverse("admin:tiers_tier_delete", args=[diamond.pk]), {"post": "yes"})

    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert list(Tier.objects.values_list("code", flat=True)) == ["member", "silver", "gold"]


@pytest.mark.parametrize(
    "name",
    [
        "admin:tiers_tier_changelist",
        "admin:tiers_tier_add",
        "admin:tiers_paidplan_changelist",
        "admin:tiers_paidplan_add",
        "admin:tiers_subscription_changelist",
        "admin:tiers_tierchange_changelist",
        "admin:members_member_changelist",
    ],
)
def test_tier_admin_pages_render_for_staff(client, name):
    member = MemberFactory()
    order_place(member, 150_000)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(reverse(name))

    assert response.status_code == 200


def test_the_override_form_renders_with_the_current_tier(client):
    member = MemberFactory()
    order_place(member, 150_000)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:members_member_override_tier", args=[member.pk]))

    assert response.status_code == 200
    assert "Now: Silver." in response.content.decode()
