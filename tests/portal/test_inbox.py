"""/me/inbox/: the in-portal messages, unread counts in the navigation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Message
from tests.factories import MemberFactory

from .helpers import inbox_message

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:inbox")
READ = reverse("notifications:inbox")


@pytest.fixture
def member(client):
    member = MemberFactory()
    client.force_login(member.user)
    return member


def test_inbox_lists_own_messages_and_counts_unread_in_navigation(client, member):
    inbox_message(member, code="MINE000001")
    inbox_message(member, code="MINE000002", read=True)
    inbox_message(MemberFactory(), code="THEIRS0001")
    Message.objects.create(member=member, template="rewards.coupon_issued", state="sent")

    html = client.get(INBOX).content.decode()

    assert html.count('data-testid="inbox-item"') == 2
    assert "THEIRS0001" not in html
    assert 'data-testid="count-notifications-inbox">1 <' in html
    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert 'data-testid="count-notifications-inbox">1 <' in dashboard


def test_mark_read_with_htmx_answers_the_card_and_the_new_count(client, member):
    message = inbox_message(member)

    response = client.post(READ, {"message": message.pk}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="message-{message.pk}"' in html
    assert 'hx-swap-oob="true"' in html
    assert "count-notifications-inbox" in html and "badge" not in html
    message.refresh_from_db()
    assert message.read_at is not None


def test_mark_read_without_javascript_redirects_and_all_can_be_marked(client, member):
    inbox_message(member)
    inbox_message(member)

    response = client.post(READ)

    assert response.status_code == 302
    assert not Message.objects.filter(member=member, read_at__isnull=True).exists()


def test_another_members_message_can_be_neither_read_nor_marked(client, member):
    theirs = inbox_message(MemberFactory())

    assert client.get(reverse("notifications:inbox_message", args=[theirs.pk])).status_code == 404
    client.post(READ, {"message": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_message_shows_it_in_full_and_marks_it_read(client, member):
    message = inbox_message(member, code="FULLCODE01")

    html = client.get(reverse("notifications:inbox_message", args=[message.pk])).content.decode()

    assert "FULLCODE01" in html
    message.refresh_from_db()
    assert message.read_at is not None


def test_a_page_of_messages_reads_their_rewards_once(client, member):
    """The rewards the messages name are read together: twenty messages about
    twenty rewards cost the queries of one."""
    inbox_message(member, reward="R0", code="CODE000000")
    client.get(INBOX)
    with CaptureQueriesContext(connection) as one:
        client.get(INBOX)
    for n in range(1, 20):
        inbox_message(member, reward=f"R{n}", code=f"CODE{n:06d}")
    with CaptureQueriesContext(connection) as twenty:
        html = client.get(INBOX).content.decode()

    assert html.count('data-testid="inbox-item"') == 20
    assert len(twenty) == len(one)
