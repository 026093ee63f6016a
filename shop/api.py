"""The shop API's member schemas: the enrolment's input (campaigns.api answers it, with
the referral code) and the member's summary; and the catalogue's endpoint,
`PUT /api/v1/products/{sku}`."""

import datetime as dt
from typing import Annotated, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool

from .errors import Invalid
from .models import Product
from .money import currency_exponent, format_amount, parse_amount
from .schemas import TEXT, Amount, Currency, Email, StrictSchema, error_responses
from .services import ProductInput, product_upsert

router = Router(tags=["products"])

LanguageCode = Literal[("", *(code for code, _name in settings.LANGUAGES))]  # type: ignore[valid-type]


class MemberEnrolIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["external_id"], "properties": {"external_id": {"type": "string"}}},
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
            ]
        }
    )

    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=TEXT,
        description="The shop's customer id. Give it, the e-mail, or both.",
    )
    email: Email | None = None
    email_verified: StrictBool = Field(
        default=False,
        description="The shop has verified the address itself: the member may redeem at once.",
    )
    first_name: str = Field(default="", max_length=150, pattern=TEXT)
    last_name: str = Field(default="", max_length=150, pattern=TEXT)
    language: LanguageCode = ""
    phone: str = Field(
        default="",
        max_length=32,
        pattern=r"^[+0-9 ()./-]*$",
        description="A mobile number, best in international form (+8613800138000);"
        " checked against its country's numbering plan and stored in E.164.",
    )


class MemberOut(Schema):
    number: str = Field(examples=["M12345678"])
    external_id: str | None
    email: str | None
    status: str = Field(examples=["active"])
    email_verified: bool


Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00,]*$")]


class ProductIn(StrictSchema):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    category: str = Field(default="", max_length=100, pattern=TEXT)
    price: Amount
    currency: Currency
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=50,
        description="Free-form tags (lower-cased); `consumable` marks a product bought again "
        "and again, recommended even after a recent purchase.",
    )
    active: StrictBool = Field(default=True, description="False: never recommended.")


class ProductOut(Schema):
    sku: str
    name: str
    category: str
    price: str = Field(examples=["129.90"])
    currency: str
    tags: list[str]
    active: bool
    updated_at: dt.datetime


def product_out(product: Product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": format_amount(product.price_minor, product.currency),
        "currency": product.currency,
        "tags": product.tags,
        "active": product.active,
        "updated_at": product.updated_at,
    }


@router.put(
    "/products/{sku}",
    response={200: ProductOut, 201: ProductOut, **error_responses(400, 422)},
    summary="Create or update a product of the catalogue (a new price is kept in its history)",
)
def products_put(request: HttpRequest, sku: str, body: ProductIn) -> Status[dict]:
    if not 0 < len(sku) <= 100 or "\x00" in sku:
        raise Invalid("The SKU is 1 to 100 characters.", fields={"sku": "1 to 100 characters."})
    currency_exponent(body.currency, field="currency")
    product, created = product_upsert(
        data=ProductInput(
            sku=sku,
            name=body.name,
            category=body.category,
            price_minor=parse_amount(body.price, body.currency, field="price"),
            currency=body.currency,
            tags=body.tags,
            active=body.active,
        )
    )
    return Status(201 if created else 200, product_out(product))
