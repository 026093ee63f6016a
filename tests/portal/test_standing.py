"""Every portal page tells a restricted member that they earn and spend nothing,
and a recently warned member of the warning, in their language."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from members.models import Sanction
from members.services import member_sanction
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Sanction.Kind
PAGES = [reverse("members:dashboard"), reverse("points:history"), reverse("rewards:rewards")]


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def member(client):
    member = MemberFactory()
    client.force_login(member.user)
    return member


def _standing(client, page=PAGES[0]):
    html = client.get(page).content.decode()
    if 'data-testid="standing"' not in html:
        return ""
    return html.split('data-testid="standing">', 1)[1].split("</p>", 1)[0].strip()


def _sanction(member, kind, staff):
    member_sanction(member=member, kind=kind, reason="card testing", actor=staff)


def test_an_active_member_sees_no_banner(client, member):
    assert _standing(client) == ""


def test_a_restricted_member_is_told_on_every_page(client, member, staff):
    _sanction(member, Kind.RESTRICT, staff)

    for page in PAGES:
        assert "your orders earn no points and you cannot spend points" in _standing(client, page)


def test_a_warned_member_is_told_for_thirty_days(client, member, staff):
    _sanction(member, Kind.WARN, staff)

    assert "activity on your membership that breaks the programme" in _standing(client)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        client.force_login(member.user)
        assert _standing(client) == ""


def test_a_lifted_restriction_leaves_no_banner(client, member, staff):
    _sanction(member, Kind.WARN, staff)
    _sanction(member, Kind.RESTRICT, staff)
    _sanction(member, Kind.LIFT, staff)

    assert _standing(client) == ""


@pytest.mark.parametrize(
    ("language", "restricted", "warned"),
    [
        ("zh-hans", "您也不能使用积分", "违反会员计划条款"),
        ("zh-hant", "您也不能使用積分", "違反會員計畫條款"),
    ],
)
def test_the_banner_is_in_the_members_language(client, staff, language, restricted, warned):
    for kind, text in ((Kind.WARN, warned), (Kind.RESTRICT, restricted)):
        member = MemberFactory(language=language)
        client.force_login(member.user)
        _sanction(member, kind, staff)

        assert text in _standing(client)
