import pytest
from django.core.management import call_command

from members.models import Member, User
from points.models import Entry
from points.selectors import balance_get
from tests.factories import ledger_is_clean

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "demo@example.com / member-demo-2026" in out
    assert User.objects.filter(is_superuser=True).count() == 1
    member = Member.objects.get(user__email="demo@example.com")
    assert member.is_verified
    assert Entry.objects.filter(member=member).count() == 5
    balance = balance_get(member=member)
    assert balance.available == 420 + 1280 + 655 - 1000
    assert balance.pending == 310
    assert ledger_is_clean()
