"""Reading Shopify's payloads. The fixtures in tests/fixtures/shopify/ have the shape
of the sample payloads in Shopify's webhook documentation (orders/create,
refunds/create): every field, ids above 2**53, money as strings except a refund
line's `subtotal`, which is a JSON number."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from shop.shopify import (
    ShopifyPayloadError,
    shopify_json_load,
    shopify_order_parse,
    shopify_refund_parse,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def order_data():
    return shopify_json_load(fixture_bytes("orders_create.json"))


@pytest.fixture
def refund_data():
    return shopify_json_load(fixture_bytes("refunds_create.json"))


def test_order_sample(order_data):
    order = shopify_order_parse(order_data)

    assert order.id == "820982911946154508"
    assert order.currency == "USD"
    assert order.created_at == dt.datetime(2026, 3, 14, 15, 21, 7, tzinfo=dt.UTC)
    assert order.customer is not None
    assert order.customer.id == "115310627314723954"
    assert order.customer.email == order.email == "jon@example.com"
    assert (order.customer.first_name, order.customer.last_name) == ("Jon", "Snow")
    assert [line.sku for line in order.line_items] == [
        "SKU2006-001",
        "SKU2006-020",
        "LENS-PROTECT-2YR",
    ]
    sunglasses, loungers, plan = order.line_items
    assert (sunglasses.price_minor, sunglasses.discount_minor, sunglasses.amount_minor) == (
        8999,
        419,
        8580,
    )
    assert (loungers.quantity, loungers.amount_minor) == (2, 2 * 15999 - 1488)
    assert plan.product_id is None
    assert order.total_discounts_minor == 2000
    assert order.shipping_minor == 1000
    # The net: the lines after discounts (the order's subtotal_price), no shipping.
    assert order.total_minor == 40996
    assert not order.test


def test_refund_sample(refund_data):
    refund = shopify_refund_parse(refund_data)

    assert refund.id == "890088186047892319"
    assert refund.order_id == "820982911946154508"
    assert refund.currency == "USD"
    assert refund.created_at == dt.datetime(2026, 3, 20, 21, 2, 11, tzinfo=dt.UTC)
    (line,) = refund.refund_line_items
    assert (line.line_item_id, line.sku, line.quantity) == ("487817672276298554", "SKU2006-001", 1)
    assert (line.price_minor, line.subtotal_minor) == (8999, 8580)
    assert refund.lines_minor == refund.transactions_minor == refund.amount_minor == 8580


def test_a_refund_subtotal_given_only_as_a_number_is_read_exactly(refund_data):
    line = refund_data["refund_line_items"][0]
    del line["subtotal_set"]
    line["subtotal"] = shopify_json_load(b"0.29")  # 0.29 as a float is 0.28999...

    refund = shopify_refund_parse(refund_data)

    assert refund.refund_line_items[0].subtotal_minor == 29


def test_a_refund_of_no_lines_is_the_money_paid_back(refund_data):
    refund_data["refund_line_items"] = []
    refund_data["transactions"].append(
        {"kind": "refund", "status": "failure", "amount": "5.00", "currency": "USD"}
    )

    refund = shopify_refund_parse(refund_data)

    assert refund.amount_minor == 8580


def test_a_guest_order_uses_the_order_email(order_data):
    order_data["customer"] = None
    order_data["email"] = "guest@example.com"

    order = shopify_order_parse(order_data)

    assert order.customer is None
    assert order.email == "guest@example.com"


def test_legacy_line_discounts_count_when_there_are_no_allocations(order_data):
    line = order_data["line_items"][0]
    line["discount_allocations"] = []
    line["total_discount"] = "9.99"

    assert shopify_order_parse(order_data).line_items[0].amount_minor == 8000


def test_zero_decimal_currency_with_shopify_padding(order_data):
    order = copy.deepcopy(order_data)
    order["currency"] = "JPY"
    for line in order["line_items"]:
        line["price"] = "1500.00"
        for allocation in line["discount_allocations"]:
            allocation["amount"] = "100.00"
    order["total_discounts"] = "300.00"
    order["total_shipping_price_set"]["shop_money"]["amount"] = "500"

    parsed = shopify_order_parse(order)

    assert [line.amount_minor for line in parsed.line_items] == [1400, 2900, 1400]
    assert parsed.shipping_minor == 500


def test_quantity_zero_lines_are_left_out(order_data):
    order_data["line_items"][2]["quantity"] = 0

    assert len(shopify_order_parse(order_data).line_items) == 2


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (lambda o: o.pop("id"), "id", "invalid"),
        (lambda o: o.update(id=True), "id", "invalid"),
        (lambda o: o.update(currency="XXX"), "currency", "unsupported_currency"),
        (lambda o: o.update(currency=None), "currency", "invalid"),
        (lambda o: o.update(created_at="yesterday"), "created_at", "invalid"),
        (lambda o: o.update(created_at="2026-03-14T10:21:07"), "created_at", "invalid"),
        (lambda o: o.update(line_items={}), "line_items", "invalid"),
        (lambda o: o["line_items"][1].update(price="-1.00"), "line_items.1.price", "invalid"),
        (lambda o: o["line_items"][1].update(price="1.999"), "line_items.1.price", "invalid"),
        (lambda o: o["line_items"][1].update(price=1e300), "line_items.1.price", "invalid"),
        (lambda o: o["line_items"][0].update(quantity="1"), "line_items.0.quantity", "invalid"),
        (lambda o: o["line_items"][0].update(quantity=-1), "line_items.0.quantity", "invalid"),
        (
            lambda o: o["line_items"][0]["discount_allocations"][0].update(amount=None),
            "line_items.0.discount_allocations.0.amount",
            "invalid",
        ),
        (lambda o: o.update(customer=[]), "customer", "invalid"),
        (lambda o: o["line_items"][0].update(sku="SKU\x00"), "line_items.0.sku", "invalid"),
        (lambda o: o["customer"].update(id="\ud800"), "customer.id", "invalid"),
        (lambda o: o["customer"].update(email=5), "customer.email", "invalid"),
    ],
)
def test_bad_order_payloads_name_the_bad_field(order_data, change, field, code):
    change(order_data)

    with pytest.raises(ShopifyPayloadError) as exc:
        shopify_order_parse(order_data)

    assert (exc.value.field, exc.value.code) == (field, code)


@pytest.mark.parametrize("data", [[], "order", None, 5])
def test_a_payload_that_is_not_an_object(data):
    with pytest.raises(ShopifyPayloadError):
        shopify_order_parse(data)
    with pytest.raises(ShopifyPayloadError):
        shopify_refund_parse(data)


def test_bad_refund_payloads_name_the_bad_field(refund_data):
    refund_data["refund_line_items"][0]["subtotal_set"]["shop_money"]["amount"] = "abc"

    with pytest.raises(ShopifyPayloadError) as exc:
        shopify_refund_parse(refund_data)

    assert exc.value.field == "refund_line_items.0.subtotal"


def test_json_load_never_makes_floats():
    data = shopify_json_load(b'{"a": 0.1, "b": [1.5e2], "c": 3}')
    assert json.dumps(data, default=str) == '{"a": "0.1", "b": ["1.5E+2"], "c": 3}'
    with pytest.raises(ValueError):
        shopify_json_load(b'{"a": NaN}')
