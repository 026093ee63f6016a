"""Campaigns raced by orders at once (PostgreSQL: real row locks): budgets, and the
welcome bonus of a first order."""

import pytest

from campaigns.catalogue import campaign_save, campaigns_cache_clear
from campaigns.documents import document_parse
from campaigns.models import Campaign, CampaignMemberSpend, OrderCampaign
from points.models import Entry
from tests.campaigns.documents import campaign_doc
from tests.concurrency import race
from tests.factories import MemberFactory, ledger_is_clean, order_place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_orders_at_once_never_overspend_the_budget():
    campaigns_cache_clear()
    campaign_save(document=document_parse(campaign_doc(code="double", budget={"points": 1000})))
    members = [MemberFactory() for _ in range(20)]

    results = race(20, lambda i: order_place(members[i], 10_000)[1])

    applied = [r for r in results if "double" in r.rules]
    assert len(applied) == 10
    assert Campaign.objects.get().spent == 1000
    assert OrderCampaign.objects.count() == 10
    assert Entry.objects.filter(source_type=Entry.Source.CAMPAIGN).count() == 10
    assert ledger_is_clean()


def test_one_members_orders_at_once_never_overspend_their_budget():
    campaigns_cache_clear()
    doc = campaign_doc(code="double", budget={"per_member": 300})
    campaign_save(document=document_parse(doc))
    member = MemberFactory()

    results = race(10, lambda i: order_place(member, 10_000)[1])

    assert sum("double" in r.rules for r in results) == 3
    assert CampaignMemberSpend.objects.get().points == 300
    assert ledger_is_clean()


def test_a_members_first_orders_at_once_earn_one_welcome_bonus():
    campaigns_cache_clear()
    campaign_save(document=document_parse(campaign_doc("welcome", code="welcome")))
    member = MemberFactory()

    results = race(8, lambda i: order_place(member, 10_000)[1])

    assert sum("welcome" in r.rules for r in results) == 1
    assert OrderCampaign.objects.count() == 1
    assert Entry.objects.filter(source_type=Entry.Source.CAMPAIGN).count() == 1
    assert ledger_is_clean()
