"""The shop API against its own OpenAPI schema (Schemathesis, through the WSGI app):
whatever it is sent, no 500, and every answer matches the documented schema and
status codes. Covers every router mounted in loyalty_site/api.py.

Random values alone would stop at "no such member" on every call. So the data
below exists (an active verified member with points, a frozen one, an order, a
paid plan's SKU) and the generated requests name it often, to reach the handlers'
depths: earning, refunds, plan purchases, redemptions, refusals.

Examples per operation: many on PostgreSQL (CI's second run: over 500 in all),
a quick pass on SQLite, to keep CI fast. The examples are derandomized: the same
ones on every run, so a failure is reproduced by running the test again, and CI's
verdict is the one seen here."""

import datetime as dt

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from loyalty_site.wsgi import application
from members.models import Member
from points.models import Entry
from points.services import Source, points_earn
from tests.factories import MemberFactory, order_place
from tiers.models import PaidPlan

POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
EXAMPLES = 50 if POSTGRES else 8

ACTIVE, FROZEN = "M00000001", "M00000002"
CUSTOMER = {"external_id": "C-SEED", "email": "seed@example.com"}
ORDER_ID = "SEED-1001"
PLAN_SKU = "PLUS-1Y"

CONTEXT_OPERATIONS = {
    "POST /api/v1/events",
    "POST /api/v1/orders",
    "POST /api/v1/orders/{order_id}/refunds",
    "POST /api/v1/redemptions",
    "GET /api/v1/coupons/{code}",
    "POST /api/v1/coupons/{code}/redeem",
    "PUT /api/v1/products/{sku}",
    "POST /api/v1/behaviour",
    "POST /api/v1/members",
}
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def _variants(value, replacements):
    """`value` as generated, or with each of `replacements` (a dict of key ->
    real value) applied: hypothesis picks among them."""
    if not isinstance(value, dict):
        return st.just(value)
    options = [value]
    for replacement in replacements:
        keys = [key for key in replacement if key in value]
        if keys:
            options.append({**value, **{key: replacement[key] for key in keys}})
    return st.sampled_from(options)


@schema.hook("flatmap_path_parameters")
def _real_path_parameters(ctx, parameters):
    return _variants(parameters, [{"number": ACTIVE}, {"number": FROZEN}, {"order_id": ORDER_ID}])


@schema.hook("flatmap_query")
def _real_query(ctx, query):
    return _variants(query, [{"member": ACTIVE}])


@schema.hook("flatmap_body")
def _real_body(ctx, body):
    if isinstance(body, dict) and isinstance(body.get("lines"), list) and body["lines"]:
        first = body["lines"][0]
        if isinstance(first, dict):
            body = {**body, "lines": [{**first, "sku": PLAN_SKU}, *body["lines"][1:]]}
    return _variants(
        body,
        [
            {"member": ACTIVE},
            {"member": FROZEN},
            {"customer": CUSTOMER, "member": None},
            {"member": ACTIVE, "currency": "CNY", "placed_at": timezone.now().isoformat()},
        ],
    )


@pytest.fixture
def _keep_test_connection():
    """Called as a WSGI app, Django closes the database connection after each
    request, which would end the test's transaction; Django's own test client
    stops that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _real_data(settings):
    settings.API_RATE_LIMIT = ""  # thousands of requests of one key
    active = MemberFactory(external_id=CUSTOMER["external_id"], user__email=CUSTOMER["email"])
    frozen = MemberFactory(status=Member.Status.FROZEN)
    Member.objects.filter(pk=active.pk).update(number=ACTIVE)
    Member.objects.filter(pk=frozen.pk).update(number=FROZEN)
    active.refresh_from_db()
    points_earn(
        member=active,
        points=5000,
        source=Source(Entry.Source.STAFF, "seed"),
        key="seed",
        effective_at=timezone.now() - dt.timedelta(days=30),
    )
    order_place(active, 50_000, placed_at=timezone.now() - dt.timedelta(days=20), order_id=ORDER_ID)
    PaidPlan.objects.create(code="plus", name="Plus", sku=PLAN_SKU, price_minor=19_900)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_test_connection", "_real_data")
def test_api_conforms_to_its_schema(case, api_key):
    # An amount may have as many decimals as its currency has (2 for CNY, 0 for
    # JPY), an order or an event cannot be in the future, a product's price is in
    # the programme's currency, a behaviour event needs its sku (a search its
    # query) and a member's phone must be a number in use in its country's numbering
    # plan: JSON Schema cannot say these, so on these operations schema-valid
    # data may rightly be refused with 422.
    excluded = [positive_data_acceptance] if case.operation.label in CONTEXT_OPERATIONS else []
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key.plaintext}"}, excluded_checks=excluded
    )
