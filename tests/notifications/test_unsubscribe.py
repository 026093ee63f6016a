import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from members.models import Member
from notifications.models import Message, Unsubscription
from notifications.services import outbox_send_due, unsubscribe_token
from tests.factories import MemberFactory
from tests.notifications.test_outbox import NOON, queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def consenting():
    with time_machine.travel(NOON, tick=False):
        yield MemberFactory(marketing_email_at=timezone.now())


def sent_offer(member):
    queue(member, kind=Message.Kind.MARKETING)
    outbox_send_due()
    [email] = mail.outbox
    return email


def test_a_marketing_email_carries_one_click_unsubscribe_headers_and_link(consenting, settings):
    email = sent_offer(consenting)

    link = re.fullmatch(r"<(.+)>", email.extra_headers["List-Unsubscribe"]).group(1)
    assert link.startswith(f"{settings.SITE_URL}/unsubscribe/")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in email.body
    assert link in email.alternatives[0][0]


def test_a_transactional_email_has_no_unsubscribe(consenting):
    queue(consenting)
    outbox_send_due()

    [email] = mail.outbox
    assert "List-Unsubscribe" not in email.extra_headers
    assert "/unsubscribe/" not in email.body


def path_of(email):
    link = re.fullmatch(r"<(.+)>", email.extra_headers["List-Unsubscribe"]).group(1)
    return urlsplit(link).path


def test_the_mail_clients_one_click_post_withdraws_consent_without_login(consenting):
    path = path_of(sent_offer(consenting))
    anonymous = Client(enforce_csrf_checks=True)

    response = anonymous.post(path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    consenting.refresh_from_db()
    assert consenting.marketing_email_at is None
    [record] = Unsubscription.objects.all()
    assert (record.member, record.channel) == (consenting, "email")


def test_opening_the_link_asks_before_withdrawing(consenting, client):
    path = path_of(sent_offer(consenting))

    page = client.get(path)

    assert page.status_code == 200
    assert b'<form method="post">' in page.content
    assert Member.objects.get(pk=consenting.pk).marketing_email_at is not None
    assert client.post(path).status_code == 200
    assert Member.objects.get(pk=consenting.pk).marketing_email_at is None


def test_marketing_queued_before_unsubscribing_is_suppressed(consenting, client):
    path = path_of(sent_offer(consenting))
    queue(consenting, kind=Message.Kind.MARKETING)

    client.post(path)
    outbox_send_due()

    assert Message.objects.order_by("pk").last().reason == "no_consent"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("tamper", ["flip", "other_member", "garbage"])
def test_a_tampered_link_is_refused_and_changes_nothing(consenting, client, tamper):
    other = MemberFactory(marketing_email_at=timezone.now())
    token = unsubscribe_token(member_id=consenting.pk, channel="email")
    if tamper == "flip":
        token = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    elif tamper == "other_member":  # another member's payload under this signature
        other_payload = unsubscribe_token(member_id=other.pk, channel="email").rpartition(":")[0]
        token = f"{other_payload}:{token.rpartition(':')[2]}"
    else:
        token = "not-a-token"

    assert client.post(f"/unsubscribe/{token}/").status_code == 404
    assert client.get(f"/unsubscribe/{token}/").status_code == 404
    assert Member.objects.filter(marketing_email_at=None).count() == 0
    assert not Unsubscription.objects.exists()
