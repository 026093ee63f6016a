"""What members are told about their tier and paid plan, through the outbox
(`notifications`): upgrade, grace, downgrade, the near-upgrade nudge (marketing:
it needs consent and counts against the cap), plan reminder and plan ended.

A notice is queued in the transaction that decided it, once per member, kind,
day and tier or plan (the message's key). Its stored context is plain JSON: the
tier or plan id, the amount still to spend, the last day (ISO); `notice_contexts`
turns it into the objects the templates (`tiers/email/<kind>_*.txt`) show."""

import datetime as dt

from notifications.models import Message
from notifications.registry import Context, register_contexts
from notifications.services import message_build
from shop.money import format_program_money

from .models import PaidPlan, Tier

UPGRADE = "upgrade"
GRACE = "grace"
DOWNGRADE = "downgrade"
NUDGE = "nudge"
PLAN_REMINDER = "plan_reminder"
PLAN_ENDED = "plan_ended"
KINDS = (UPGRADE, GRACE, DOWNGRADE, NUDGE, PLAN_REMINDER, PLAN_ENDED)
MARKETING = {NUDGE}
TIER_CHANGED = "tier.changed"  # the webhook event


def template(kind: str) -> str:
    return f"tiers.{kind}"


def message_kind(kind: str) -> str:
    return Message.Kind.MARKETING if kind in MARKETING else Message.Kind.TRANSACTIONAL


def notice_key(kind: str, as_of: dt.date | str, subject_id: int | str) -> str:
    """Once per member, kind, day and tier (or plan)."""
    return f"tiers.{kind}:{as_of}:{subject_id}"


def notice_build(
    *,
    member_id: int,
    kind: str,
    as_of: dt.date,
    tier_id: int | None = None,
    plan_id: int | None = None,
    amount_minor: int = 0,
    until: dt.date | None = None,
) -> Message:
    context: dict[str, object] = {
        "tier_id": tier_id,
        "plan_id": plan_id,
        "amount_minor": amount_minor,
    }
    if until is not None:
        context["until"] = until.isoformat()
    return message_build(
        member_id=member_id,
        template=template(kind),
        context=context,
        kind=message_kind(kind),
        key=notice_key(kind, as_of, tier_id or plan_id or 0),
    )


def notice_contexts(stored: list[Context]) -> list[Context]:
    """The notices' tiers and plans, read once for all of them."""
    tier_ids = {each["tier_id"] for each in stored if each.get("tier_id")}
    plan_ids = {each["plan_id"] for each in stored if each.get("plan_id")}
    tiers = Tier.objects.in_bulk(tier_ids) if tier_ids else {}
    plans = PaidPlan.objects.in_bulk(plan_ids) if plan_ids else {}
    contexts = []
    for each in stored:
        until = each.get("until")
        contexts.append(
            {
                "tier": tiers.get(each.get("tier_id")),
                "plan": plans.get(each.get("plan_id")),
                "amount_minor": each.get("amount_minor", 0),
                "amount": format_program_money(each.get("amount_minor", 0)),
                "until": dt.date.fromisoformat(until) if until else None,
            }
        )
    return contexts


def tier_changed_payload(
    member: str, from_tier: str, to_tier: str, reason: str, as_of: dt.date | str
) -> dict[str, str]:
    """The `tier.changed` webhook event's data."""
    return {
        "member": member,
        "from": from_tier,
        "to": to_tier,
        "reason": reason,
        "as_of": str(as_of),
    }


def register_messages() -> None:
    for kind in KINDS:
        register_contexts(template(kind), notice_contexts)
