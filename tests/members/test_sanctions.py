"""Staff sanctions: one service changes a member's status, always with a reason,
and records who, when and why; the admin applies it and never edits the status."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from members.models import Member, Sanction
from members.services import member_sanction
from tests.concurrency import race
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Member.Status
Kind = Sanction.Kind


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.mark.parametrize(
    ("status", "kind", "after"),
    [
        (Status.ACTIVE, Kind.WARN, Status.ACTIVE),
        (Status.RESTRICTED, Kind.WARN, Status.RESTRICTED),
        (Status.FROZEN, Kind.WARN, Status.FROZEN),
        (Status.ACTIVE, Kind.RESTRICT, Status.RESTRICTED),
        (Status.FROZEN, Kind.RESTRICT, Status.RESTRICTED),
        (Status.ACTIVE, Kind.FREEZE, Status.FROZEN),
        (Status.RESTRICTED, Kind.FREEZE, Status.FROZEN),
        (Status.RESTRICTED, Kind.LIFT, Status.ACTIVE),
        (Status.FROZEN, Kind.LIFT, Status.ACTIVE),
    ],
)
def test_a_sanction_moves_the_status_and_records_who_when_why(staff, status, kind, after):
    member = MemberFactory(status=status)

    sanction = member_sanction(member=member, kind=kind, reason="  chargebacks  ", actor=staff)

    member.refresh_from_db()
    assert member.status == after
    stored = Sanction.objects.get()
    assert stored == sanction
    assert (stored.member, stored.kind, stored.actor, stored.reason) == (
        member,
        kind,
        staff,
        "chargebacks",
    )
    assert (stored.status_before, stored.status_after) == (status, after)
    assert stored.created_at is not None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (Status.ACTIVE, Kind.LIFT),
        (Status.RESTRICTED, Kind.RESTRICT),
        (Status.FROZEN, Kind.FREEZE),
        (Status.CLOSED, Kind.WARN),
        (Status.CLOSED, Kind.LIFT),
        (Status.CLOSED, Kind.RESTRICT),
        (Status.CLOSED, Kind.FREEZE),
    ],
)
def test_a_sanction_the_status_does_not_take_is_refused_and_changes_nothing(staff, status, kind):
    member = MemberFactory(status=status)

    with pytest.raises(ValidationError) as refused:
        member_sanction(member=member, kind=kind, reason="because", actor=staff)

    assert refused.value.code == "sanction_not_applicable"
    member.refresh_from_db()
    assert member.status == status
    assert not Sanction.objects.exists()


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_sanction_needs_a_reason(staff, reason):
    member = MemberFactory()

    with pytest.raises(ValidationError) as refused:
        member_sanction(member=member, kind=Kind.FREEZE, reason=reason, actor=staff)

    assert refused.value.error_dict["reason"][0].code == "reason_required"
    member.refresh_from_db()
    assert member.status == Status.ACTIVE
    assert not Sanction.objects.exists()


def test_an_unknown_sanction_is_refused(staff):
    member = MemberFactory()

    with pytest.raises(ValidationError) as refused:
        member_sanction(member=member, kind="ban", reason="why", actor=staff)

    assert refused.value.error_dict["kind"][0].code == "invalid"
    assert not Sanction.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_freezing_at_once_freeze_once():
    member = MemberFactory()
    actors = [UserFactory(is_staff=True), UserFactory(is_staff=True)]

    results = race(
        2,
        lambda i: member_sanction(
            member=Member.objects.get(pk=member.pk),
            kind=Kind.FREEZE,
            reason=f"report {i}",
            actor=actors[i],
        ),
        errors=True,
    )

    assert sorted(type(result).__name__ for result in results) == [
        "Sanction",
        "ValidationError",
    ]
    assert Sanction.objects.count() == 1
    assert Member.objects.get(pk=member.pk).status == Status.FROZEN


# The admin


def _staff_with(*codenames):
    user = UserFactory(is_staff=True)
    perms = ["view_member", "change_member", *codenames]
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return user


def _sanction_url(member):
    return reverse("admin:members_member_sanction", args=[member.pk])


def test_staff_sanction_a_member_from_the_admin_with_a_reason(client):
    staff = _staff_with("add_sanction", "view_sanction")
    client.force_login(staff)
    member = MemberFactory()
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert _sanction_url(member) in page.content.decode()

    form = client.get(_sanction_url(member))
    offered = [value for value, _label in form.context["form"].fields["kind"].choices]
    assert offered == [Kind.WARN, Kind.RESTRICT, Kind.FREEZE]

    response = client.post(_sanction_url(member), {"kind": "freeze", "reason": "fraud ring"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == Status.FROZEN
    sanction = Sanction.objects.get()
    assert (sanction.actor, sanction.reason) == (staff, "fraud ring")
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert "fraud ring" in page.content.decode()


def test_the_admin_refuses_a_sanction_without_a_reason(client):
    client.force_login(_staff_with("add_sanction"))
    member = MemberFactory()

    response = client.post(_sanction_url(member), {"kind": "freeze", "reason": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    member.refresh_from_db()
    assert member.status == Status.ACTIVE
    assert not Sanction.objects.exists()


def test_the_admin_refuses_a_sanction_the_status_no_longer_takes(client):
    client.force_login(_staff_with("add_sanction"))
    member = MemberFactory(status=Status.FROZEN)

    response = client.post(_sanction_url(member), {"kind": "freeze", "reason": "again"})

    assert response.status_code == 200
    assert response.context["form"].errors["kind"]
    assert not Sanction.objects.exists()


def test_staff_without_the_permission_cannot_sanction(client):
    client.force_login(_staff_with())
    member = MemberFactory()

    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert _sanction_url(member) not in page.content.decode()
    response = client.post(_sanction_url(member), {"kind": "freeze", "reason": "x"})

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_the_status_cannot_be_edited_on_the_member_page(admin_client):
    member = MemberFactory()
    url = reverse("admin:members_member_change", args=[member.pk])
    form = admin_client.get(url).context["adminform"].form
    assert "status" not in form.fields

    data = {name: value for name, value in form.initial.items() if value is not None}
    admin_client.post(url, {**data, "status": "frozen"})

    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_sanctions_are_listed_read_only(admin_client):
    member = MemberFactory()
    member_sanction(
        member=member, kind=Kind.WARN, reason="late returns", actor=UserFactory(is_staff=True)
    )

    listing = admin_client.get(reverse("admin:members_sanction_changelist"))

    assert listing.status_code == 200
    assert member.number in listing.content.decode()
    assert admin_client.get(reverse("admin:members_sanction_add")).status_code == 403


def _sanction_selected(client, members, **data):
    return client.post(
        reverse("admin:members_member_changelist"),
        {"action": "sanction_selected", "_selected_action": [m.pk for m in members], **data},
        follow=True,
    )


def test_staff_sanction_the_selected_members_with_one_reason(client):
    staff = _staff_with("add_sanction")
    client.force_login(staff)
    active, restricted, frozen = (
        MemberFactory(),
        MemberFactory(status=Status.RESTRICTED),
        MemberFactory(status=Status.FROZEN),
    )

    form = _sanction_selected(client, [active, restricted, frozen])
    assert form.context["form"].fields["kind"].choices[0][0] == Kind.WARN
    assert not Sanction.objects.exists()
    done = _sanction_selected(
        client, [active, restricted, frozen], apply="1", kind="freeze", reason="fraud ring"
    )

    statuses = {m.number: m.status for m in Member.objects.all()}
    assert statuses == {
        active.number: Status.FROZEN,
        restricted.number: Status.FROZEN,
        frozen.number: Status.FROZEN,
    }
    assert Sanction.objects.filter(reason="fraud ring", actor=staff).count() == 2
    text = done.content.decode()
    assert "Sanction applied to 2 member(s)." in text
    assert f"Not applied to {frozen.number}" in text


def test_the_selected_members_are_not_sanctioned_without_a_reason(client):
    client.force_login(_staff_with("add_sanction"))
    member = MemberFactory()

    response = _sanction_selected(client, [member], apply="1", kind="freeze", reason=" ")

    assert response.context["form"].errors["reason"]
    assert not Sanction.objects.exists()
    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_staff_without_the_permission_have_no_sanction_action(client):
    client.force_login(_staff_with())
    member = MemberFactory()

    _sanction_selected(client, [member], apply="1", kind="freeze", reason="x")

    assert not Sanction.objects.exists()
    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_too_many_selected_members_are_refused(client, monkeypatch):
    monkeypatch.setattr("members.admin.SANCTION_SELECTED_MAX", 1)
    client.force_login(_staff_with("add_sanction"))
    members = [MemberFactory(), MemberFactory()]

    response = _sanction_selected(client, members, apply="1", kind="freeze", reason="x")

    assert "Select at most 1 members at once." in response.content.decode()
    assert not Sanction.objects.exists()
