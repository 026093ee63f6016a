import datetime as dt

import pytest
from django.urls import reverse

from members.models import Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("members:profile")


def _profile_post(client, **overrides):
    data = {
        "first_name": "Mei",
        "last_name": "Chen",
        "birthday": "1990-05-17",
        "language": "",
    }
    data.update(overrides)
    return client.post(PROFILE, {k: v for k, v in data.items() if v is not None})


@pytest.fixture
def member(client):
    member = MemberFactory()
    client.force_login(member.user)
    return member


def test_member_sets_birthday_name_and_consent(client, member):
    response = _profile_post(client, marketing_email="on")

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.birthday == dt.date(1990, 5, 17)
    assert member.birthday_set_at is not None
    assert member.user.first_name == "Mei"
    assert member.marketing_email_at is not None
    assert member.marketing_sms_at is None


def test_withdrawing_consent_clears_its_time(client, member):
    _profile_post(client, marketing_email="on")
    _profile_post(client)

    member.refresh_from_db()
    assert member.marketing_email_at is None


def test_birthday_can_be_set_once_only(client, member):
    _profile_post(client)

    response = _profile_post(client, birthday="1991-01-01", first_name="Changed")

    member.refresh_from_db()
    assert member.birthday == dt.date(1990, 5, 17)
    # The field is locked on the form; the rest of the edit goes through.
    assert response.status_code == 302
    assert member.user.first_name == "Changed"


def test_service_refuses_a_second_birthday_even_without_the_form(member):
    from django.core.exceptions import ValidationError

    from members.services import member_update_profile

    kwargs = dict(
        first_name="",
        last_name="",
        language="",
        marketing_email=False,
        marketing_sms=False,
        marketing_inbox=False,
        marketing_push=False,
    )
    member_update_profile(member=member, birthday=dt.date(1990, 5, 17), **kwargs)
    with pytest.raises(ValidationError):
        member_update_profile(member=member, birthday=dt.date(1980, 1, 1), **kwargs)
    member.refresh_from_db()
    assert member.birthday == dt.date(1990, 5, 17)


@pytest.mark.parametrize("value", ["1990-02-30", "not a date", "1990-13-01"])
def test_invalid_birthday_is_a_form_error_and_changes_nothing(client, member, value):
    response = _profile_post(client, birthday=value)

    assert response.status_code == 200
    assert response.context["form"].errors["birthday"]
    member.refresh_from_db()
    assert member.birthday is None
    assert member.user.first_name == ""


def test_future_birthday_is_a_form_error(client, member):
    response = _profile_post(client, birthday="2999-01-01")

    assert response.status_code == 200
    assert response.context["form"].errors
    member.refresh_from_db()
    assert member.birthday is None


def test_member_sees_and_edits_only_their_own_data(client, member):
    other = MemberFactory()

    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert member.number in dashboard
    assert other.number not in dashboard

    profile = client.get(PROFILE).content.decode()
    assert member.user.email in profile
    assert other.user.email not in profile

    _profile_post(client, first_name="Mine")
    other.refresh_from_db()
    other.user.refresh_from_db()
    assert other.user.first_name == ""
    assert other.birthday is None


def test_portal_pages_need_a_login(client):
    for url in (reverse("members:dashboard"), PROFILE):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_preferred_language_is_used_for_pages(client, member):
    Member.objects.filter(pk=member.pk).update(language="zh-hans")

    response = client.get(reverse("members:dashboard"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.headers["Content-Language"] == "zh-hans"
