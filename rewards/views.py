"""The member's rewards page (redeem, with a confirmation step) and coupon
wallet. With htmx the confirmation opens in the reward's card and the coupon
replaces it; without JavaScript each step is a page."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from members.views import own_member
from shop.errors import DomainError
from shop.selectors import shop_default

from .models import RewardRedemption
from .selectors import (
    RewardCard,
    WalletTab,
    reward_card,
    reward_cards,
    wallet_coupons,
    wallet_gifts,
)
from .services.rewards import reward_redeem

# What the member reads when a redemption is refused, by the error's code.
REFUSALS = {
    "insufficient_points": _("You do not have enough points for this reward."),
    "tier_required": _("This reward is for a higher tier."),
    "reward_limit": _("You have redeemed this reward as many times as it allows."),
    "out_of_stock": _("This reward is out of stock."),
    "reward_unavailable": _("This reward is not available now."),
    "email_unverified": _("Verify your e-mail address first: you need it to spend points."),
    "member_inactive": _("Your account cannot spend points now."),
    "points_debt": _("A refund took back points you had spent: your next points repay it first."),
}
REFUSAL_OTHER = _("This reward cannot be redeemed now.")


def refusal_text(error: DomainError | None) -> str:
    return "" if error is None else str(REFUSALS.get(error.code, REFUSAL_OTHER))


def _shown(cards: list[RewardCard]) -> list[tuple[RewardCard, str]]:
    """The cards as the templates take them: each with why it cannot be redeemed."""
    return [(card, refusal_text(card.refusal)) for card in cards]


@login_required
@require_GET
def rewards(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    available, cards = reward_cards(member=member)
    return render(
        request,
        "rewards/rewards.html",
        {
            "member": member,
            "available": available,
            "cards": _shown(cards),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reward_redeem_view(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the confirmation (what it costs, what is left after). POST: redeem,
    once per confirmation (its key), through the rewards service."""
    member = own_member(request)
    found = reward_card(member=member, code=code)
    if found is None:
        raise Http404
    available, card = found
    error = ""
    if request.method == "POST":
        key = request.POST.get("key", "")
        try:
            uuid.UUID(key)
        except ValueError:
            key = ""
        if key:
            try:
                redemption, _created = reward_redeem(
                    shop=shop_default(), member=member, reward_code=code, key=f"portal:{key}"
                )
            except DomainError as refused:
                error = refusal_text(refused)
            else:
                if request.htmx:  # type: ignore[attr-defined]
                    # The coupon in the card; out of band, the page's balance line
                    # and what the other cards say the member can afford now.
                    left, cards = reward_cards(member=member)
                    others = _shown([other for other in cards if other.reward.code != code])
                    context = {"redemption": redemption, "available": left, "others": others}
                    return render(request, "rewards/_redeemed.html", context)
                return redirect("rewards:redeemed", public_id=redemption.public_id)
        else:
            error = str(REFUSAL_OTHER)
    context = {
        "card": card,
        "refusal": refusal_text(card.refusal),
        "error": error,
        "available": available,
        "after": available - card.reward.points,
        "key": uuid.uuid4(),
    }
    template = "rewards/_confirm.html" if request.htmx else "rewards/confirm.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def redeemed(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The coupon (or the gift's state) of the member's own redemption."""
    member = own_member(request)
    redemption = get_object_or_404(
        RewardRedemption.objects.select_related("reward", "coupon"),
        public_id=public_id,
        member=member,
    )
    return render(request, "rewards/redeemed.html", {"redemption": redemption})


@login_required
@require_GET
def coupons(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    tab = request.GET.get("show", WalletTab.ACTIVE)
    if tab not in WalletTab.ALL:
        tab = WalletTab.ACTIVE
    context = {
        "tab": tab,
        "tabs": [
            (WalletTab.ACTIVE, _("Active")),
            (WalletTab.USED, _("Used")),
            (WalletTab.EXPIRED, _("Expired")),
            (WalletTab.GIFTS, _("Gifts")),
        ],
    }
    if tab == WalletTab.GIFTS:
        context["gifts"] = wallet_gifts(member=member)
    else:
        before = request.GET.get("before", "")
        context["coupons"], context["next_before"] = wallet_coupons(
            member=member, tab=tab, before_id=int(before) if before.isdigit() else None
        )
    template = "rewards/_wallet.html" if request.htmx else "rewards/coupons.html"  # type: ignore[attr-defined]
    return render(request, template, context)
