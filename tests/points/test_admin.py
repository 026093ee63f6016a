import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from points.models import Entry
from points.selectors import balance_get
from points.services import Source, points_earn
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _staff(*perms):
    user = UserFactory(is_staff=True)
    codenames = ["view_member", "change_member", "view_entry", *perms]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _adjust(client, member, points, reason="goodwill", key="adjust:1"):
    url = reverse("admin:members_member_adjust_points", args=[member.pk])
    return client.post(url, {"points": points, "reason": reason, "key": key})


def test_staff_with_permission_adjusts_points_with_a_reason(client, member):
    staff = _staff("adjust_points")
    client.force_login(staff)

    response = _adjust(client, member, 250)

    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.kind, entry.amount, entry.actor, entry.reason) == (
        "adjust",
        250,
        staff,
        "goodwill",
    )
    assert balance_get(member=member).available == 250


def test_resubmitting_the_same_form_adjusts_once(client, member):
    client.force_login(_staff("adjust_points"))

    _adjust(client, member, 250, key="adjust:same")
    _adjust(client, member, 250, key="adjust:same")

    assert balance_get(member=member).available == 250


def test_adjustment_without_a_reason_is_a_form_error(client, member):
    client.force_login(_staff("adjust_points"))

    response = _adjust(client, member, 250, reason="   ")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not Entry.objects.exists()


def test_staff_without_the_permission_cannot_adjust(client, member):
    client.force_login(_staff())

    response = _adjust(client, member, 250)

    assert response.status_code == 403
    assert not Entry.objects.exists()


def test_large_adjustment_needs_the_manager_permission(client, member, settings):
    settings.POINTS_LARGE_ADJUSTMENT = 10_000
    client.force_login(_staff("adjust_points"))

    response = _adjust(client, member, 10_001)

    assert response.status_code == 200
    assert "need a manager" in str(response.context["form"].non_field_errors())
    assert not Entry.objects.exists()

    client.force_login(_staff("adjust_points", "adjust_points_large"))
    assert _adjust(client, member, 10_001, key="adjust:2").status_code == 302
    assert balance_get(member=member).available == 10_001


def test_member_page_shows_balance_and_recent_ledger(admin_client, member):
    points_earn(member=member, points=75, source=Source("order", "A-1"), key="k")

    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk]))

    html = page.content.decode()
    assert "75 available, 0 pending, 0 debt" in html
    assert "A-1" in html
    assert "Adjust points" in html


def test_ledger_list_is_read_only(admin_client, member):
    entry = points_earn(member=member, points=75, source=Source("order", "A-1"), key="k")

    listing = admin_client.get(reverse("admin:points_entry_changelist") + f"?q={member.number}")
    assert listing.status_code == 200
    assert "A-1" in listing.content.decode()
    assert admin_client.get(reverse("admin:points_entry_add")).status_code == 403
    delete = admin_client.post(
        reverse("admin:points_entry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert Entry.objects.count() == 1


def test_job_runs_are_listed(admin_client, member):
    from django.core.management import call_command

    call_command("expire_points", "--as-of", "2026-03-10")

    listing = admin_client.get(reverse("admin:batch_jobrun_changelist"))
    assert "expire_points" in listing.content.decode()
