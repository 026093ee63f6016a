"""The API framework (auth, error shape) and the members endpoints."""

import datetime as dt

import pytest
from django.test import Client

from batch.services import program_today
from members.models import Member, User
from shop.services import api_key_revoke
from tests.api import assert_error, post
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/members"


# Authentication


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer lk_wrong_key", "Basic dXNlcjpwYXNz", "lk_no_scheme"],
)
def test_a_missing_or_wrong_key_is_401(api_key, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    client = Client(headers=headers)

    assert_error(post(client, MEMBERS, {"email": "a@example.com"}), 401, "unauthenticated")
    assert_error(client.get(f"{MEMBERS}/M00000000"), 401, "unauthenticated")
    assert not Member.objects.exists()


def test_a_revoked_key_is_401(api_key, api_client):
    api_key_revoke(api_key=api_key)

    assert_error(post(api_client, MEMBERS, {"email": "a@example.com"}), 401, "unauthenticated")


def test_the_key_is_checked_before_the_body(api_key):
    client = Client(headers={"Authorization": "Bearer lk_wrong"})
    assert_error(post(client, MEMBERS, "{not json"), 401, "unauthenticated")


def test_a_valid_key_is_accepted_and_its_use_recorded(api_key, api_client):
    response = post(api_client, MEMBERS, {"email": "a@example.com"})

    assert response.status_code == 201
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


# Bad input: a 4xx with `invalid`, the bad fields named, nothing written


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2", b"\xff\xfe", "NaN"])
def test_malformed_json_is_invalid(api_client, body):
    error = assert_error(post(api_client, MEMBERS, body), 400 if body else 422, "invalid")
    assert error["fields"]
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({"email": 5}, {"email"}),
        ({"external_id": ["C1"]}, {"external_id"}),
        ({"external_id": 123}, {"external_id"}),
        ({"email": "a@example.com", "first_name": None}, {"first_name"}),
        ({"email": "a@example.com", "shoe_size": 42}, {"shoe_size"}),
        ({"email": "a@example.com", "phone": "1" * 33}, {"phone"}),
        ({"email": "a@example.com", "phone": "12345"}, {"phone"}),
        ({"external_id": ""}, {"external_id"}),
        ({"external_id": "C\u0000"}, {"external_id"}),
        ({"external_id": "C\ud800"}, {"external_id"}),
        ({"email": "a@example.com", "last_name": "Chen\u0000"}, {"last_name"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"email": "a@example.com", "language": "klingon"}, {"language"}),
        ({}, {"external_id", "email"}),
        ([1, 2], {"body"}),
        ("null", {"body"}),
    ],
)
def test_wrong_types_and_unknown_fields_are_invalid(api_client, body, bad_fields):
    error = assert_error(post(api_client, MEMBERS, body), 422, "invalid")

    assert set(error["fields"]) == bad_fields
    assert all(error["fields"].values())
    assert not Member.objects.exists()
    assert not User.objects.exists()


def test_an_unknown_path_is_a_json_404(api_client):
    assert_error(api_client.get("/api/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(api_client):
    response = api_client.delete(MEMBERS)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


# POST /api/v1/members


def test_enrol_creates_a_member_then_finds_it(api_client):
    body = {
        "external_id": "C-1001",
        "email": "Mei.Chen@Example.com",
        "first_name": "Mei",
        "last_name": "Chen",
        "language": "zh-hans",
        "phone": "+8613800000000",
    }
    first = post(api_client, MEMBERS, body)

    assert first.status_code == 201
    created = first.json()
    assert created["number"].startswith("M")
    assert created == {
        "number": created["number"],
        "external_id": "C-1001",
        "email": "mei.chen@example.com",
        "status": "active",
        "email_verified": False,
    }
    member = Member.objects.select_related("user").get()
    assert (member.language, member.phone) == ("zh-hans", "+8613800000000")
    assert (member.user.first_name, member.user.last_name) == ("Mei", "Chen")
    assert not member.user.has_usable_password()

    again = post(api_client, MEMBERS, body)
    assert again.status_code == 200
    assert again.json() == created
    assert Member.objects.count() == 1


def test_enrol_finds_an_existing_member_by_email(api_client):
    member = MemberFactory(user__email="jo@example.com")

    response = post(api_client, MEMBERS, {"email": "JO@example.com", "external_id": "C-7"})

    assert response.status_code == 200
    assert response.json()["number"] == member.number
    member.refresh_from_db()
    assert member.external_id == "C-7"  # the shop's id is linked to the member found


def test_enrol_by_external_id_alone(api_client):
    response = post(api_client, MEMBERS, {"external_id": "C-42"})

    assert response.status_code == 201
    assert response.json()["email"] is None
    assert post(api_client, MEMBERS, {"external_id": "C-42"}).status_code == 200


# GET /api/v1/members/{number}


def test_get_member(api_client):
    member = MemberFactory(external_id="C-9", status=Member.Status.RESTRICTED)

    response = api_client.get(f"{MEMBERS}/{member.number}")

    assert response.status_code == 200
    assert response.json() == {
        "number": member.number,
        "external_id": "C-9",
        "email": member.user.email,
        "status": "restricted",
        "referral_code": member.referral_code,
        "segment": None,
        "tags": [],
        "email_verified": True,
        "points": {"available": 0, "pending": 0, "expiring": []},
        "tier": {
            "code": "member",
            "name": "Member",
            "multiplier": "1.00",
            "benefits": {
                "discount_percent": 0,
                "free_shipping": False,
                "priority_support": False,
                "birthday_gift": False,
                "early_access": False,
            },
            "since": None,
            "grace_until": None,
            "held_until": None,
        },
        "spend": {
            "window_days": 365,
            "since": (program_today() - dt.timedelta(days=364)).isoformat(),
            "amount": "0.00",
            "currency": "CNY",
            "orders": 0,
            "next_tier": {
                "code": "silver",
                "name": "Silver",
                "spend_left": "1000.00",
                "orders_left": 0,
            },
        },
        "paid_plan": None,
        "earn_multiplier": "1.00",
    }


@pytest.mark.parametrize(
    "number", ["M00000000", "nobody", "M" + "9" * 500, "%E2%9C%93", "M0000000%00", "m12345678"]
)
def test_get_unknown_member_is_404(api_client, number):
    MemberFactory()
    assert_error(api_client.get(f"{MEMBERS}/{number}"), 404, "not_found")


# The schema


def test_openapi_schema_and_docs_are_served():
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/members", "/api/v1/members/{number}"} <= set(schema["paths"])
    enrol = schema["paths"]["/api/v1/members"]["post"]
    assert {"200", "201", "401", "422"} <= set(enrol["responses"])
    assert enrol["security"]
    assert client.get("/api/v1/docs").status_code == 200
