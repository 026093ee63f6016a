"""A campaign as the document staff edit, import and export: one pydantic model
per kind, told apart by `kind` (a discriminated union), so a bad document is
refused with the path of each error ("reward.multiplier", "ab.control").

Unknown fields are errors, not ignored: a typo in a document must not turn a
condition off. Amounts are decimal strings in the programme's currency, as in
the shop's API; times carry their offset."""

from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from django.conf import settings
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from shop.money import MoneyError, parse_amount

CODE = r"^[a-z0-9][a-z0-9_-]{0,49}$"
LIFECYCLES = ("new", "active", "at_risk", "dormant", "churned")
Lifecycle = Literal["new", "active", "at_risk", "dormant", "churned"]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Points = Annotated[int, Field(ge=1, le=1_000_000)]


def _minor(value: str | None) -> int | None:
    return None if value is None else parse_amount(value, settings.PROGRAM_CURRENCY)


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_money(value: str | None) -> str | None:
    """An amount field: a decimal string in the programme's currency."""
    try:
        _minor(value)
    except MoneyError as error:
        raise ValueError(str(error)) from None
    return value


class Target(Part):
    """Who a campaign is for; an empty list or null means everyone."""

    tiers: list[Name] = []
    segments: list[Lifecycle] = []
    paid_plan: Name | None = Field(
        default=None, description="a paid plan's code: only members with that plan running"
    )
    sprint: bool = Field(
        default=False, description="only members within 20% of the next tier's spend"
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default=[], description="only members with one of these profile tags"
    )


class OrderConditions(Part):
    """What an order must be. Empty lists match everything; `weekdays` are ISO
    (1 Monday .. 7 Sunday) and `days_of_month` 1..31, both in the programme's
    time zone; `categories` and `skus` pick the lines (either matches)."""

    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = []
    days_of_month: list[Annotated[int, Field(ge=1, le=31)]] = []
    categories: list[Name] = []
    skus: list[Name] = []
    min_total: str | None = Field(default=None, description="the order's net, e.g. '199.00'")

    _money = field_validator("min_total")(_check_money)

    @cached_property
    def min_total_minor(self) -> int | None:
        return _minor(self.min_total)


class Budget(Part):
    points: int | None = Field(default=None, ge=1, description="total points it may give")
    per_member: int | None = Field(default=None, ge=1, description="points one member may get")


class AB(Part):
    """Members split into variants by weight, by a stable hash of the salt (the
    campaign's code unless given) and the member number."""

    variants: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")], Annotated[int, Field(ge=0, le=100)]
    ]
    control: str
    salt: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _check(self) -> "AB":
        if len(self.variants) < 2:
            raise ValueError("an A/B test needs at least two variants")
        if self.control not in self.variants:
            raise ValueError(f"control {self.control!r} is not one of the variants")
        if sum(self.variants.values()) == 0:
            raise ValueError("the variants' weights add up to 0")
        return self


class Common(Part):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    # What members read in Simplified and Traditional Chinese (empty: the name).
    name_zh_hans: str = Field(default="", max_length=200)
    name_zh_hant: str = Field(default="", max_length=200)
    active: bool = True
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = Field(default=None, description="exclusive")
    priority: int = Field(default=0, ge=-1000, le=1000)
    stackable: bool = False
    target: Target = Target()
    budget: Budget = Budget()
    ab: AB | None = None

    @model_validator(mode="after")
    def _window(self) -> "Common":
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


class MultiplierReward(Part):
    multiplier: Decimal = Field(gt=1, le=10, decimal_places=2)


class PointsReward(Part):
    points: Points


class GiftReward(Part):
    """Points, or a reward of the catalogue by its code: one of the two."""

    points: Points | None = None
    reward: Name | None = None

    @model_validator(mode="after")
    def _one(self) -> "GiftReward":
        if (self.points is None) == (self.reward is None):
            raise ValueError("give either points or reward")
        return self


class Multiplier(Common):
    kind: Literal["multiplier"]
    conditions: OrderConditions = OrderConditions()
    reward: MultiplierReward


class MemberDay(Common):
    kind: Literal["member_day"]
    conditions: OrderConditions
    reward: MultiplierReward

    @model_validator(mode="after")
    def _days(self) -> "MemberDay":
        if not self.conditions.days_of_month:
            raise ValueError("conditions.days_of_month: a member day needs at least one day")
        return self


class OrderBonus(Common):
    kind: Literal["order_bonus"]
    conditions: OrderConditions
    reward: PointsReward

    @model_validator(mode="after")
    def _threshold(self) -> "OrderBonus":
        if self.conditions.min_total is None:
            raise ValueError("conditions.min_total: an order bonus needs a minimum total")
        return self


class Welcome(Common):
    kind: Literal["welcome"]
    conditions: OrderConditions = OrderConditions()
    reward: PointsReward


class Signup(Common):
    kind: Literal["signup"]
    reward: PointsReward


class ReferralTerms(Part):
    referrer_points: Points
    referee_points: Points
    monthly_cap: int = Field(ge=1, le=1000, description="referrals paid per referrer a month")


class Referral(Common):
    kind: Literal["referral"]
    referral: ReferralTerms


class Birthday(Common):
    kind: Literal["birthday"]
    reward: GiftReward


class ChallengeTerms(Part):
    orders: int | None = Field(default=None, ge=1, le=1000)
    spend: str | None = None
    within_days: int = Field(ge=1, le=366)

    _money = field_validator("spend")(_check_money)

    @model_validator(mode="after")
    def _goal(self) -> "ChallengeTerms":
        if self.orders is None and self.spend is None:
            raise ValueError("give orders, spend or both")
        return self

    @cached_property
    def spend_minor(self) -> int | None:
        return _minor(self.spend)


class Challenge(Common):
    kind: Literal["challenge"]
    challenge: ChallengeTerms
    reward: PointsReward


class WinBackTerms(Part):
    dormant_days: int = Field(ge=30, le=3650)


class WinBack(Common):
    kind: Literal["win_back"]
    win_back: WinBackTerms
    reward: GiftReward


Document = Annotated[
    Multiplier
    | MemberDay
    | OrderBonus
    | Welcome
    | Signup
    | Referral
    | Birthday
    | Challenge
    | WinBack,
    Field(discriminator="kind"),
]
ORDER_KINDS = ("multiplier", "member_day", "order_bonus", "welcome")
KINDS = (
    "multiplier",
    "member_day",
    "order_bonus",
    "welcome",
    "signup",
    "referral",
    "birthday",
    "challenge",
    "win_back",
)

_adapter: TypeAdapter[Document] = TypeAdapter(Document)


class DocumentErrors(ValueError):
    """A document refused: `errors` is a list of (path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))
        self.errors = errors


def _path(loc: tuple[int | str, ...], kind_known: bool) -> str:
    # A discriminated union puts the kind first in the path: drop it.
    parts = loc[1:] if kind_known and loc else loc
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def document_parse(data: object) -> Document:
    """The document `data` (parsed JSON) as its kind's model, or DocumentErrors
    listing every error with its path."""
    try:
        return _adapter.validate_python(data)
    except ValidationError as error:
        kind_known = isinstance(data, dict) and data.get("kind") in KINDS
        errors = []
        for item in error.errors(include_url=False):
            path = _path(item["loc"], kind_known)
            if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = "kind"
            message = item["msg"].removeprefix("Value error, ")
            if ": " in message and path == "" and message.split(": ", 1)[0].count(" ") == 0:
                path, message = message.split(": ", 1)
            errors.append((path or "(document)", message))
        raise DocumentErrors(errors) from None


def document_dump(document: Document) -> dict:
    return document.model_dump(mode="json")
