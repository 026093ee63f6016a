"""The tier notices move into the outbox (notifications.Message), then their
table goes. A notice sent stays a sent message; one never sent is queued if it
is from the last 7 days, and suppressed as stale if older (news of last month's
tier is no news)."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

BATCH = 2000
MARKETING = {"nudge"}
STALE_AFTER = dt.timedelta(days=7)


def notices_to_messages(apps, schema_editor):
    TierNotice = apps.get_model("tiers", "TierNotice")
    Message = apps.get_model("notifications", "Message")
    stale_before = timezone.now() - STALE_AFTER
    batch = []
    for notice in TierNotice.objects.order_by("pk").iterator(chunk_size=BATCH):
        context = {
            "tier_id": notice.tier_id,
            "plan_id": notice.plan_id,
            "amount_minor": notice.amount_minor,
        }
        if notice.until is not None:
            context["until"] = notice.until.isoformat()
        if notice.sent_at is not None:
            state, reason = "sent", ""
        elif notice.created_at < stale_before:
            state, reason = "suppressed", "stale"
        else:
            state, reason = "queued", ""
        batch.append(
            Message(
                member_id=notice.member_id,
                channel="email",
                kind="marketing" if notice.kind in MARKETING else "transactional",
                template=f"tiers.{notice.kind}",
                context=context,
                key=f"tiers.{notice.kind}:{notice.as_of}:{notice.tier_id or notice.plan_id or 0}",
                state=state,
                reason=reason,
                attempts=1 if notice.sent_at else 0,
                next_attempt_at=notice.created_at,
                created_at=notice.created_at,
                sent_at=notice.sent_at,
            )
        )
        if len(batch) == BATCH:
            Message.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Message.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("tiers", "0003_shop_models_moved"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(notices_to_messages, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(name="TierNotice"),
    ]
