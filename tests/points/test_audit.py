import pytest
from django.core.management import call_command
from django.db import connection

from points.models import Entry
from points.services import Source, points_earn
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.no_audit
@pytest.mark.parametrize(
    "corruption",
    [
        "UPDATE points_account SET available = available + 5 WHERE member_id = %s",
        "UPDATE points_account SET pending = pending + 5 WHERE member_id = %s",
        "UPDATE points_entry SET balance_after = balance_after + 5 WHERE member_id = %s",
        "UPDATE points_entry SET pending_change = 3 WHERE member_id = %s",
    ],
)
def test_audit_names_the_member_whose_balance_was_corrupted(capsys, corruption):
    honest, victim = MemberFactory(), MemberFactory()
    for member in (honest, victim):
        points_earn(member=member, points=100, source=Source(Entry.Source.ORDER, "1"), key="k")
    with connection.cursor() as cursor:
        cursor.execute(corruption, [victim.pk])

    with pytest.raises(SystemExit) as exit_:
        call_command("ledger_audit")

    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert victim.number in out
    assert honest.number not in out


@pytest.mark.no_audit
def test_audit_finds_a_lot_that_does_not_match_the_balance(capsys):
    member = MemberFactory()
    points_earn(member=member, points=100, source=Source(Entry.Source.ORDER, "1"), key="k")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE points_lot SET remaining = 90 WHERE member_id = %s", [member.pk])

    with pytest.raises(SystemExit):
        call_command("ledger_audit")

    assert member.number in capsys.readouterr().out


def test_audit_is_clean_on_an_honest_ledger(capsys):
    member = MemberFactory()
    points_earn(member=member, points=100, source=Source(Entry.Source.ORDER, "1"), key="k")

    call_command("ledger_audit")

    assert "clean" in capsys.readouterr().out
