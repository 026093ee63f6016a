import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Campaign
from members.models import Member, User
from points.models import Entry
from points.selectors import balance_get
from rewards.models import Reward
from tests.factories import ledger_is_clean
from tiers.models import MemberTier, PaidPlan, TierChange

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "demo@example.com / member-demo-2026" in out
    assert User.objects.filter(is_superuser=True).count() == 1
    member = Member.objects.get(user__email="demo@example.com")
    assert member.is_verified
    assert Entry.objects.filter(member=member).count() == 5
    balance = balance_get(member=member)
    # The second order lifts the member to Silver: it and the later ones earn x1.2.
    assert balance.available == 420 + 1536 + 786 - 1000
    assert balance.pending == 372
    assert MemberTier.objects.get(member=member).tier.code == "silver"
    assert TierChange.objects.filter(member=member, reason="upgrade").count() == 1
    assert PaidPlan.objects.filter(code="plus").count() == 1
    assert set(Campaign.objects.values_list("kind", flat=True)) == set(Campaign.Kind.values)
    assert set(Reward.objects.values_list("kind", flat=True)) == {"coupon", "gift"}
    assert Reward.objects.count() == 3
    assert ledger_is_clean()


def test_seed_demo_refuses_with_debug_off_and_creates_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")

    assert not User.objects.exists()
    assert not Member.objects.exists()


def test_seed_demo_runs_with_debug_off_when_forced(settings):
    settings.DEBUG = False

    call_command("seed_demo", "--force")

    assert User.objects.filter(email="admin@example.com", is_superuser=True).exists()
    assert Member.objects.filter(user__email="demo@example.com").exists()
