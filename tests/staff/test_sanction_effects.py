"""What each sanction does, seen from outside: through the shop's API and the
portal, the message and webhook that tell of it, and a frozen member's points,
which do not expire while frozen."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from batch.runner import job_run
from batch.services import program_midnight
from members.models import Member, Sanction
from members.services import member_sanction
from notifications.models import Message, WebhookDelivery, WebhookEndpoint
from notifications.services import outbox_send_due
from points.models import Entry, Lot
from points.selectors import balance_get
from tests.api import assert_error, post
from tests.factories import PASSWORD, MemberFactory, UserFactory
from tests.rewards.conftest import make_reward, member_with_points

pytestmark = pytest.mark.django_db
Kind = Sanction.Kind


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def _sanction(member, kind, staff):
    return member_sanction(member=member, kind=kind, reason="card testing", actor=staff)


def _order(api_client, member, order_id):
    body = {
        "order_id": order_id,
        "member": member.number,
        "placed_at": dt.datetime.now(dt.UTC).isoformat(),
        "currency": "CNY",
        "total": "200.00",
        "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "amount": "200.00"}],
    }
    return post(api_client, "/api/v1/orders", body)


def _redeem(api_client, member, key):
    body = {"member": member.number, "reward": "ten-off", "idempotency_key": key}
    return post(api_client, "/api/v1/redemptions", body)


def test_a_restricted_member_earns_and_redeems_nothing_until_lifted(api_client, staff):
    member = member_with_points(5000, email_verified_at=dt.datetime.now(dt.UTC))
    make_reward(code="ten-off")
    _sanction(member, Kind.RESTRICT, staff)

    ordered = _order(api_client, member, "r-1")
    assert ordered.status_code == 201, ordered.content
    assert ordered.json()["points"] == 0
    assert_error(_redeem(api_client, member, "k1"), 403, "member_inactive")
    assert balance_get(member=member).available == 5000

    _sanction(member, Kind.LIFT, staff)

    assert _order(api_client, member, "r-2").json()["points"] == 200
    assert _redeem(api_client, member, "k2").status_code == 201
    assert balance_get(member=member).available == 4000


def test_a_frozen_member_cannot_transact_or_log_in_until_lifted(api_client, client, staff):
    member = member_with_points(5000, email_verified_at=dt.datetime.now(dt.UTC))
    make_reward(code="ten-off")
    _sanction(member, Kind.FREEZE, staff)

    assert_error(_order(api_client, member, "f-1"), 403, "member_inactive")
    assert_error(_redeem(api_client, member, "k1"), 403, "member_inactive")
    login = {"login": member.user.email, "password": PASSWORD}
    refused = client.post(reverse("account_login"), login)
    assert refused.status_code == 302 and refused.url == reverse("account_inactive")
    assert "_auth_user_id" not in client.session

    _sanction(member, Kind.LIFT, staff)

    assert _order(api_client, member, "f-2").status_code == 201
    assert _redeem(api_client, member, "k2").status_code == 201
    client.post(reverse("account_login"), login)
    assert "_auth_user_id" in client.session
    assert client.get(reverse("members:dashboard")).status_code == 200


def test_a_sanction_is_told_to_the_member_and_to_the_webhook(
    staff, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in", events=["member.sanctioned"], secret="whsec_x"
    )
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/other", events=["tier.changed"], secret="whsec_y"
    )
    member = MemberFactory()

    sanction = _sanction(member, Kind.FREEZE, staff)

    message = Message.objects.get(member=member)
    assert (message.template, message.context["sanction"]) == ("staff.sanction", "freeze")
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint and delivery.event == "member.sanctioned"
    assert delivery.payload == {
        "member": member.number,
        "sanction": "freeze",
        "status_before": "active",
        "status": "frozen",
        "at": sanction.created_at.isoformat(),
    }
    # A frozen member is told all the same (the outbox writes to no other
    # inactive member), in their language.
    counts = outbox_send_due()
    assert counts.get("sent") == 1, counts
    assert mail.outbox[0].to == [member.user.email]
    assert "frozen" in mail.outbox[0].subject
    assert "do not expire" in mail.outbox[0].body


def test_a_closed_member_is_not_written_to(staff):
    member = MemberFactory()
    _sanction(member, Kind.WARN, staff)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.CLOSED)

    outbox_send_due()

    assert Message.objects.get().state == Message.State.SUPPRESSED
    assert not mail.outbox


def test_a_refused_sanction_tells_nothing(staff):
    member = MemberFactory()
    with pytest.raises(Exception):  # noqa: B017 - ValidationError; tested in tests/members
        _sanction(member, Kind.LIFT, staff)
    assert not Message.objects.exists()


def _expire(day):
    run = job_run(name="expire_points", as_of=day)
    assert run.status == "succeeded", run.error


def test_a_frozen_members_points_do_not_expire_and_the_clock_resumes_when_lifted(staff):
    # Points earned on 1 March 2026 expire at the midnight that begins 2 March 2027.
    start = program_midnight(dt.date(2026, 3, 1)) + dt.timedelta(hours=10)
    with time_machine.travel(start, tick=False):
        member = member_with_points(300)
        other = member_with_points(300)
    lot = Lot.objects.get(member=member)
    expires = lot.expires_at
    assert expires == program_midnight(dt.date(2027, 3, 2))

    with time_machine.travel(program_midnight(dt.date(2027, 2, 20)) + dt.timedelta(hours=9)):
        _sanction(member, Kind.FREEZE, staff)
    with time_machine.travel(program_midnight(dt.date(2027, 3, 5)) + dt.timedelta(hours=1)):
        _expire(dt.date(2027, 3, 5))
    # The other member's points expired; the frozen member's did not.
    assert balance_get(member=other).available == 0
    assert balance_get(member=member).available == 300
    assert not Entry.objects.filter(member=member, kind=Entry.Kind.EXPIRE).exists()

    # Frozen on 20 February, lifted on 2 March: ten days back on the clock.
    with time_machine.travel(program_midnight(dt.date(2027, 3, 2)) + dt.timedelta(hours=15)):
        _sanction(member, Kind.LIFT, staff)
    lot.refresh_from_db()
    assert lot.expires_at == expires + dt.timedelta(days=10)

    with time_machine.travel(program_midnight(dt.date(2027, 3, 11)) + dt.timedelta(hours=1)):
        _expire(dt.date(2027, 3, 11))
    assert balance_get(member=member).available == 300
    with time_machine.travel(program_midnight(dt.date(2027, 3, 12)) + dt.timedelta(hours=1)):
        _expire(dt.date(2027, 3, 12))
    assert balance_get(member=member).available == 0
    assert Entry.objects.get(member=member, kind=Entry.Kind.EXPIRE).amount == -300


def test_a_warning_of_a_frozen_member_does_not_move_the_clock(staff):
    member = member_with_points(100)
    expires = Lot.objects.get(member=member).expires_at
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)):
        _sanction(member, Kind.FREEZE, staff)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        _sanction(member, Kind.WARN, staff)
    assert Lot.objects.get(member=member).expires_at == expires
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=13)):
        _sanction(member, Kind.RESTRICT, staff)  # leaving frozen: ten days back
    assert Lot.objects.get(member=member).expires_at == expires + dt.timedelta(days=10)


def test_the_audit_does_not_count_a_frozen_members_points_as_left_past_expiry(staff):
    from points.audit import audit_no_expired_points_left

    start = program_midnight(dt.date(2026, 3, 1)) + dt.timedelta(hours=10)
    with time_machine.travel(start, tick=False):
        member = member_with_points(300)
    with time_machine.travel(program_midnight(dt.date(2027, 2, 20)), tick=False):
        _sanction(member, Kind.FREEZE, staff)
    with time_machine.travel(program_midnight(dt.date(2027, 3, 5)) + dt.timedelta(hours=1)):
        _expire(dt.date(2027, 3, 5))
    assert Lot.objects.get(member=member).remaining == 300  # past its expiry, kept
    assert audit_no_expired_points_left() == []
    # Had the member not been frozen, the same lot would be reported.
    Member.objects.filter(pk=member.pk).update(status=Member.Status.ACTIVE)
    assert audit_no_expired_points_left() == [member.number]
