"""The campaign jobs of the night: birthdays, challenges, win-back."""

import datetime as dt

import pytest

from batch.services import program_midnight
from campaigns.catalogue import campaign_check, campaign_save
from campaigns.documents import DocumentErrors, document_parse
from campaigns.jobs import birthday_days
from campaigns.models import Campaign, CampaignGrant
from campaigns.rules import campaign_variant
from points.models import Entry
from rewards.models import Coupon
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, OrderFactory, ledger_is_clean
from tests.rewards.conftest import make_reward
from tests.tiers.helpers import night

pytestmark = pytest.mark.django_db
SECOND = dt.timedelta(seconds=1)


def _campaign(kind, **fields):
    return campaign_save(document=document_parse(campaign_doc(kind, **fields)))


def _campaign_points(member):
    return sum(
        Entry.objects.filter(member=member, source_type=Entry.Source.CAMPAIGN).values_list(
            "amount", flat=True
        )
    )


def _birthday_member(birthday, set_days_before, as_of):
    return MemberFactory(
        birthday=birthday,
        birthday_set_at=program_midnight(as_of - dt.timedelta(days=set_days_before)),
    )


def test_birthdays_pay_once_a_year_even_run_twice_the_same_day():
    _campaign("birthday")  # 500 points
    as_of = dt.date(2026, 5, 17)
    member = _birthday_member(dt.date(1990, 5, 17), 30, as_of)
    other = _birthday_member(dt.date(1990, 5, 18), 30, as_of)

    first = night("birthdays", as_of)
    due_again = Campaign.objects.get().grants.filter(member=member).count()
    again = night("birthdays", as_of, chunk_size=1)

    assert first.counts["birthday_gifts"] == 1
    assert due_again == 1
    assert again.counts.get("birthday_gifts", 0) == 0
    assert (_campaign_points(member), _campaign_points(other)) == (500, 0)
    night("birthdays", dt.date(2027, 5, 17))
    assert _campaign_points(member) == 1000
    assert ledger_is_clean()


def test_a_birthday_must_have_been_on_file_for_30_days():
    _campaign("birthday")
    as_of = dt.date(2026, 5, 17)
    on_file = _birthday_member(dt.date(1990, 5, 17), 30, as_of)
    too_recent = _birthday_member(dt.date(1991, 5, 17), 29, as_of)

    night("birthdays", as_of)

    assert (_campaign_points(on_file), _campaign_points(too_recent)) == (500, 0)


def test_29_february_is_celebrated_on_28_february_in_other_years():
    assert birthday_days(dt.date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthday_days(dt.date(2028, 2, 28)) == [(2, 28)]
    assert birthday_days(dt.date(2028, 2, 29)) == [(2, 29)]
    _campaign("birthday")
    leapling = _birthday_member(dt.date(2000, 2, 29), 400, dt.date(2027, 2, 28))

    night("birthdays", dt.date(2027, 2, 28))
    night("birthdays", dt.date(2028, 2, 28))
    assert _campaign_points(leapling) == 500
    night("birthdays", dt.date(2028, 2, 29))
    assert _campaign_points(leapling) == 1000


def test_birthday_targeting_the_ab_control_and_the_budget():
    as_of = dt.date(2026, 5, 17)
    members = [_birthday_member(dt.date(1990, 5, 17), 40, as_of) for _ in range(30)]
    campaign = _campaign(
        "birthday",
        budget={"points": 2500},
        ab={"variants": {"A": 1, "B": 1}, "control": "A"},
    )
    document = document_parse(campaign.document)
    treated = [m for m in members if campaign_variant(document, m.number) == "B"]
    assert len(treated) > 5

    night("birthdays", as_of)

    paid = [m for m in members if _campaign_points(m)]
    assert len(paid) == 5  # 5 x 500 = the budget
    assert set(paid) <= set(treated)
    assert Campaign.objects.get().spent == 2500


def test_a_challenge_met_pays_once():
    _campaign(
        "challenge",
        challenge={"orders": 2, "spend": "300.00", "within_days": 30},
    )  # 400 points
    as_of = dt.date(2026, 6, 1)
    met, short = MemberFactory(), MemberFactory()
    for member, total in ((met, 20_000), (short, 10_000)):
        for days in (3, 20):
            OrderFactory(
                member=member,
                total_minor=total,
                placed_at=program_midnight(as_of - dt.timedelta(days=days)),
            )
    OrderFactory(member=short, placed_at=program_midnight(as_of - dt.timedelta(days=31)))

    night("challenges", as_of)
    night("challenges", as_of + dt.timedelta(days=1))

    assert (_campaign_points(met), _campaign_points(short)) == (400, 0)


def test_win_back_offers_once_per_dormancy():
    _campaign("win_back")  # after 90 days, 300 points
    as_of = dt.date(2026, 6, 1)
    member = MemberFactory()
    OrderFactory(member=member, placed_at=program_midnight(as_of - dt.timedelta(days=90)) - SECOND)
    awake = MemberFactory()
    OrderFactory(member=awake, placed_at=program_midnight(as_of - dt.timedelta(days=90)))

    night("win_back", as_of)
    assert (_campaign_points(member), _campaign_points(awake)) == (300, 0)
    night("win_back", as_of + dt.timedelta(days=5))
    assert (_campaign_points(member), _campaign_points(awake)) == (300, 300)

    later = as_of + dt.timedelta(days=200)
    OrderFactory(member=member, placed_at=program_midnight(later - dt.timedelta(days=95)))
    night("win_back", later)

    assert _campaign_points(member) == 600
    assert CampaignGrant.objects.filter(member=member).count() == 2


def test_win_back_counts_from_the_last_order_not_refunded_in_full():
    _campaign("win_back")
    as_of = dt.date(2026, 6, 1)
    member = MemberFactory()
    OrderFactory(member=member, placed_at=program_midnight(as_of - dt.timedelta(days=120)))
    OrderFactory(
        member=member,
        placed_at=program_midnight(as_of - dt.timedelta(days=10)),
        total_minor=5000,
        refunded_minor=5000,
    )

    night("win_back", as_of)

    assert _campaign_points(member) == 300


def test_win_back_finds_the_dormant_in_as_many_queries_for_one_member_as_for_twenty():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.jobs import win_back

    _campaign("win_back")
    as_of = dt.date(2026, 6, 1)
    dormant_at = program_midnight(as_of - dt.timedelta(days=100))

    def second_run_queries(count):
        members = [MemberFactory() for _ in range(count)]
        for member in members:
            OrderFactory(member=member, placed_at=dormant_at)
        ids = (members[0].pk, members[-1].pk)
        assert win_back(as_of, *ids) == {"win_back_offers": count}
        with CaptureQueriesContext(connection) as queries:
            assert win_back(as_of, *ids) == {"win_back_offers": 0}
        return len(queries)

    assert second_run_queries(1) == second_run_queries(20)


def test_a_birthday_gift_may_be_a_rewards_coupon_and_the_reward_must_exist():
    data = campaign_doc("birthday", reward={"reward": "cake"})
    with pytest.raises(DocumentErrors, match=r"reward\.reward: no coupon or voucher reward"):
        campaign_check(data=data)
    make_reward(code="cake")
    campaign_save(document=campaign_check(data=data))
    as_of = dt.date(2026, 5, 17)
    member = _birthday_member(dt.date(1990, 5, 17), 30, as_of)

    night("birthdays", as_of)
    night("birthdays", as_of, chunk_size=1)

    coupon = Coupon.objects.get(owner=member)
    assert (coupon.source, coupon.source_ref) == ("campaign", "test-birthday:2026")
    assert _campaign_points(member) == 0


def _messages(member):
    from notifications.models import Message

    return list(
        Message.objects.filter(member=member, template="campaigns.granted").values_list(
            "kind", "context"
        )
    )


def test_a_birthday_gift_is_told_to_the_member_once_as_a_transactional_message():
    from notifications.models import Message
    from notifications.services import message_render

    _campaign("birthday")  # 500 points
    as_of = dt.date(2026, 5, 17)
    member = _birthday_member(dt.date(1990, 5, 17), 30, as_of)

    night("birthdays", as_of)
    night("birthdays", as_of)

    [(kind, context)] = _messages(member)
    assert kind == "transactional"
    assert context["points"] == 500
    rendered = message_render(Message.objects.get(member=member))
    assert "500 points" in rendered["body"]


def test_a_win_back_offer_of_a_coupon_is_marketing_with_the_code():
    make_reward(code="come-back")
    _campaign("win_back", reward={"reward": "come-back"})
    as_of = dt.date(2026, 6, 1)
    member = MemberFactory()
    OrderFactory(member=member, placed_at=program_midnight(as_of - dt.timedelta(days=100)))

    night("win_back", as_of)

    [(kind, context)] = _messages(member)
    assert kind == "marketing"
    assert context["code"] == Coupon.objects.get(owner=member).code
