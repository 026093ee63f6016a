"""The portal's points draws (/me/draws/): each draw with the odds in force,
a button to play, and the member's past plays."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.views import own_member
from points.errors import EmailNotVerified, InsufficientPoints, MemberInactive
from shop.errors import DomainError

from .errors import OutOfStock, RewardLimit, RewardUnavailable, TierRequired
from .models import DrawPlay, Reward
from .selectors import draw_offers, draw_plays_recent
from .services.draws import draw_play

REFUSALS = {
    InsufficientPoints: lambda reward: (
        _("You need %(points)s points to play %(draw)s.")
        % {"points": reward.points, "draw": reward.name_in(translation.get_language() or "")}
    ),
    EmailNotVerified: lambda reward: _("Verify your e-mail address before you spend points."),
    MemberInactive: lambda reward: _("Your account cannot spend points at the moment."),
    TierRequired: lambda reward: _("This draw is for members of a higher tier."),
    RewardLimit: lambda reward: _("You have played this draw as many times as it allows."),
    RewardUnavailable: lambda reward: _("This draw is not open now."),
    OutOfStock: lambda reward: _("This draw is not open now."),
}


def refusal_text(error: DomainError, reward: Reward) -> str:
    refusal = REFUSALS.get(type(error))
    return refusal(reward) if refusal else _("The draw could not be played.")


def play_outcome(play: DrawPlay) -> str:
    language = translation.get_language() or ""
    if play.prize is None:
        return _("Nothing this time. Better luck next time!")
    name = play.prize.name_in(language)
    if play.coupon is not None:
        return _("You won %(prize)s: coupon %(code)s is in your wallet.") % {
            "prize": name,
            "code": play.coupon.code,
        }
    if play.status == DrawPlay.Status.TO_SHIP:
        return _("You won %(prize)s: we will send it to you.") % {"prize": name}
    return _("You won %(prize)s.") % {"prize": name}


@login_required
def draws(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    return render(
        request,
        "rewards/draws.html",
        {
            "offers": [
                (offer, refusal_text(offer.refusal, offer.reward) if offer.refusal else "")
                for offer in draw_offers(member=member)
            ],
            "plays": [(play, play_outcome(play)) for play in draw_plays_recent(member=member)],
            "key": uuid.uuid4().hex,
        },
    )


@login_required
@require_POST
def play(request: HttpRequest, code: str) -> HttpResponse:
    member = own_member(request)
    reward = get_object_or_404(Reward, code=code, kind=Reward.Kind.DRAW)
    key = request.POST.get("key", "")
    if not key or len(key) > 100:
        messages.error(request, _("The form was incomplete: please try again."))
        return redirect("draws:draws")
    try:
        result, _created = draw_play(member=member, reward_code=reward.code, key=key)
    except DomainError as error:
        messages.error(request, refusal_text(error, reward))
    else:
        messages.success(request, play_outcome(result))
    return redirect("draws:draws")
