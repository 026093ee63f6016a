import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import MemberFactory
from tiers.models import Tier, TierNotice
from tiers.notices import CLAIM_BATCH, notices_send_range

pytestmark = pytest.mark.django_db


def _notices(members, kind):
    gold = Tier.objects.get(code="gold")
    TierNotice.objects.bulk_create(
        TierNotice(
            member=member,
            kind=kind,
            as_of=dt.date(2026, 11, 24),
            tier=gold,
            created_at=timezone.now(),
        )
        for member in members
    )


def test_every_notice_is_sent_once_across_claim_batches():
    members = [MemberFactory() for _ in range(CLAIM_BATCH + 3)]
    _notices(members, TierNotice.Kind.UPGRADE)

    first = notices_send_range(first_id=members[0].pk, last_id=members[-1].pk)
    second = notices_send_range(first_id=members[0].pk, last_id=members[-1].pk)

    assert (first, second) == (CLAIM_BATCH + 3, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in members)
    assert not TierNotice.objects.filter(sent_at__isnull=True).exists()


def test_a_nudge_goes_only_with_marketing_consent_and_is_settled_either_way():
    consenting = MemberFactory(marketing_email_at=timezone.now())
    silent = MemberFactory()
    _notices([consenting, silent], TierNotice.Kind.NUDGE)

    sent = notices_send_range(first_id=consenting.pk, last_id=silent.pk)

    assert sent == 1
    assert [m.to for m in mail.outbox] == [[consenting.user.email]]
    assert not TierNotice.objects.filter(sent_at__isnull=True).exists()


def test_notices_of_members_outside_the_range_wait_for_their_own_chunk():
    inside, outside = MemberFactory(), MemberFactory()
    _notices([inside, outside], TierNotice.Kind.UPGRADE)

    notices_send_range(first_id=inside.pk, last_id=inside.pk)

    assert [m.to for m in mail.outbox] == [[inside.user.email]]
    assert TierNotice.objects.get(member=outside).sent_at is None
