"""Sending the tier notices: the outbox rows (`TierNotice`) written by the
transaction that decided them, e-mailed after it commits.

Notices are claimed in batches (locked rows skipped, `sent_at` set) before
their e-mails go, so two senders never send one twice; an e-mail that fails after
its claim is not retried: at most once. The near-upgrade nudge is marketing: it
goes only to members who consented to marketing e-mail; the rest (tier changes,
grace, paid plans) are transactional and always go.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from members.models import Member
from shop.money import format_program_money

from .models import TierNotice

MARKETING = {TierNotice.Kind.NUDGE}
CLAIM_BATCH = 500


def _message(notice: TierNotice, email: str) -> EmailMultiAlternatives:
    member = notice.member
    with translation.override(member.language or settings.LANGUAGE_CODE):
        context = {
            "member": member,
            "notice": notice,
            "amount": format_program_money(notice.amount_minor),
        }
        subject = render_to_string(f"tiers/email/{notice.kind}_subject.txt", context).strip()
        body = render_to_string(f"tiers/email/{notice.kind}_message.txt", context)
    return EmailMultiAlternatives(subject, body, to=[email])


def _claim(notices: QuerySet[TierNotice]) -> list[int]:
    """Take up to CLAIM_BATCH unsent notices for this sender: rows another sender
    holds are skipped, and the ones taken are marked sent before any e-mail goes."""
    with transaction.atomic():
        ids = list(
            notices.filter(sent_at__isnull=True)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:CLAIM_BATCH]
        )
        TierNotice.objects.filter(pk__in=ids, sent_at__isnull=True).update(sent_at=timezone.now())
    return ids


def _send(notices: QuerySet[TierNotice]) -> int:
    sent = 0
    while ids := _claim(notices):
        messages = []
        claimed = TierNotice.objects.filter(pk__in=ids).select_related(
            "member__user", "tier", "plan"
        )
        for notice in claimed.order_by("pk"):
            member, email = notice.member, notice.member.user.email
            if member.status != Member.Status.ACTIVE or not email:
                continue
            if notice.kind in MARKETING and member.marketing_email_at is None:
                continue
            messages.append(_message(notice, email))
        if messages:
            get_connection().send_messages(messages)
        sent += len(messages)
    return sent


def notices_send(*, ids: list[int]) -> int:
    """Send the unsent notices among `ids`; returns how many e-mails went."""
    return _send(TierNotice.objects.filter(pk__in=ids, sent_at__isnull=True))


def notices_send_range(*, first_id: int, last_id: int) -> int:
    """Send every unsent notice of the members `first_id`..`last_id` (a night's
    chunk, and whatever an earlier crash left unsent)."""
    return _send(
        TierNotice.objects.filter(
            Q(member_id__gte=first_id, member_id__lte=last_id), sent_at__isnull=True
        )
    )
