"""The tier notices move into the outbox (tiers 0004): nothing is lost."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("tiers", "0003_shop_models_moved"), ("notifications", "0001_initial")]
AFTER = [("tiers", "0004_notices_to_outbox")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_tier_notices_become_outbox_messages():
    members = [MemberFactory() for _ in range(4)]
    apps = migrate(BEFORE)
    TierNotice = apps.get_model("tiers", "TierNotice")
    Tier = apps.get_model("tiers", "Tier")
    gold = Tier.objects.get(code="gold")
    now = timezone.now()
    sent_at = now - dt.timedelta(days=40)
    rows = [
        TierNotice(member_id=members[0].pk, kind="upgrade", as_of=dt.date(2026, 10, 1),
                   tier_id=gold.pk, created_at=sent_at, sent_at=sent_at),
        TierNotice(member_id=members[1].pk, kind="grace", as_of=dt.date(2026, 11, 30),
                   tier_id=gold.pk, amount_minor=12_300, until=dt.date(2026, 12, 30),
                   created_at=now),
        TierNotice(member_id=members[2].pk, kind="nudge", as_of=dt.date(2026, 9, 1),
                   tier_id=gold.pk, amount_minor=500, created_at=now - dt.timedelta(days=90)),
        TierNotice(member_id=members[3].pk, kind="plan_ended", as_of=dt.date(2026, 11, 30),
                   created_at=now),
    ]  # fmt: skip
    TierNotice.objects.bulk_create(rows)

    apps = migrate(AFTER)

    Message = apps.get_model("notifications", "Message")
    found = {
        m.member_id: m
        for m in Message.objects.all()
    }  # fmt: skip
    assert len(found) == 4
    upgrade, grace, nudge, ended = (found[m.pk] for m in members)
    assert (upgrade.template, upgrade.state, upgrade.sent_at) == ("tiers.upgrade", "sent", sent_at)
    assert upgrade.key == f"tiers.upgrade:2026-10-01:{gold.pk}"
    assert (grace.state, grace.kind) == ("queued", "transactional")
    assert grace.context == {
        "tier_id": gold.pk,
        "plan_id": None,
        "amount_minor": 12_300,
        "until": "2026-12-30",
    }
    assert (nudge.kind, nudge.state, nudge.reason) == ("marketing", "suppressed", "stale")
    assert (ended.template, ended.state) == ("tiers.plan_ended", "queued")
