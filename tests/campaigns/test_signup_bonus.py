import re

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from members.models import Member
from points.models import Entry
from tests.campaigns.documents import campaign_doc

pytestmark = pytest.mark.django_db


def test_verifying_the_email_pays_the_signup_bonus_once(client):
    campaign_save(document=document_parse(campaign_doc("signup")))  # 50 points
    campaign_save(
        document=document_parse(
            campaign_doc("signup", code="gold-only", target={"tiers": ["gold"]})
        )
    )
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)

    client.post(link)
    client.post(link)

    member = Member.objects.get()
    assert member.is_verified
    entries = Entry.objects.filter(member=member, source_type=Entry.Source.CAMPAIGN)
    assert list(entries.values_list("source_ref", "amount")) == [("test-signup", 50)]
