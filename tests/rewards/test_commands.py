"""rewards_import / rewards_export and coupons_issue, as SPEC.md says."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from batch.services import program_midnight
from rewards.models import Coupon, CouponBatch, Reward, StockAdjustment
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

TEN_OFF = {
    "code": "TEN-OFF",
    "name": "10 yuan off",
    "kind": "coupon",
    "points": 1000,
    "coupon": {"kind": "amount", "value": "10.00", "min_spend": "50.00", "valid_days": 30},
    "stock": 100,
    "min_tier": None,
    "per_member_limit": 2,
    "starts_at": None,
    "ends_at": None,
    "active": True,
}


def run(name, *args):
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(tmp_path, data):
    path = tmp_path / "rewards.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_import_the_specs_example_then_export_it_back(tmp_path):
    gift = {
        "code": "MUG",
        "name": "A mug",
        "kind": "gift",
        "points": 3000,
        "stock": 5,
        "min_tier": "gold",
        "starts_at": "2026-12-01T00:00:00+08:00",
    }
    out = run("rewards_import", write(tmp_path, [TEN_OFF, gift]))
    assert "2 created, 0 updated" in out
    reward = Reward.objects.get(code="TEN-OFF")
    assert (reward.points, reward.stock, reward.per_member_limit) == (1000, 100, 2)
    assert Reward.objects.get(code="MUG").min_tier.code == "gold"

    exported = json.loads(run("rewards_export"))
    by_code = {d["code"]: d for d in exported}
    assert {k: by_code["TEN-OFF"][k] for k in TEN_OFF} == {
        **TEN_OFF,
        "coupon": {**TEN_OFF["coupon"], "max_discount": None, "uses": 1},
    }
    assert by_code["MUG"]["starts_at"] == "2026-11-30T16:00:00+00:00"

    again = run("rewards_import", write(tmp_path, exported))
    assert "0 created, 2 updated" in again


def test_an_import_upserts_by_code_and_records_a_stock_change(tmp_path):
    run("rewards_import", write(tmp_path, TEN_OFF))
    run("rewards_import", write(tmp_path, {**TEN_OFF, "points": 900, "stock": 80}))
    reward = Reward.objects.get()
    assert (reward.points, reward.stock) == (900, 80)
    adjustment = StockAdjustment.objects.get()
    assert (adjustment.change, adjustment.stock_after, adjustment.reason) == (-20, 80, "import")


def test_every_error_is_listed_with_its_path_and_nothing_is_written(tmp_path):
    bad = [
        TEN_OFF,
        {**TEN_OFF, "code": "B", "coupon": {"kind": "amount", "value": "10.001"}},
        {**TEN_OFF, "code": "C", "points": -5, "colour": "red"},
        {**TEN_OFF, "code": "D", "kind": "gift"},
    ]
    with pytest.raises(CommandError) as failed:
        run("rewards_import", write(tmp_path, bad))
    message = str(failed.value)
    assert "nothing written" in message
    assert "1.coupon: " in message and "decimal" in message
    assert "2.points: " in message
    assert "2.colour: " in message
    assert "3: " in message and "gift issues no coupon" in message
    assert not Reward.objects.exists()


def test_a_code_twice_and_an_unknown_tier_are_errors(tmp_path):
    data = [TEN_OFF, {**TEN_OFF, "min_tier": "platinum"}]
    with pytest.raises(CommandError) as failed:
        run("rewards_import", write(tmp_path, data))
    assert "1.code: 'TEN-OFF' appears twice" in str(failed.value)
    assert "1.min_tier: no tier has the code 'platinum'" in str(failed.value)
    assert not Reward.objects.exists()


def test_a_file_that_is_not_json_is_an_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError):
        run("rewards_import", str(path))


def test_issue_one_coupon_to_a_member():
    member = MemberFactory()
    out = run(
        "coupons_issue",
        "--kind",
        "percent",
        "--value",
        "15",
        "--max-discount",
        "20.00",
        "--min-spend",
        "50.00",
        "--uses",
        "2",
        "--expires",
        "2099-12-31",
        "--member",
        member.number,
    )
    coupon = Coupon.objects.get(code=out.strip())
    assert (coupon.kind, coupon.percent, coupon.max_discount_minor) == ("percent", 15, 2000)
    assert (coupon.min_spend_minor, coupon.uses_allowed, coupon.owner) == (5000, 2, member)
    assert coupon.expires_at == program_midnight(dt.date(2100, 1, 1))
    assert coupon.source == "staff"


def test_issue_k_unique_codes_one_a_line():
    out = run("coupons_issue", "--kind", "free_shipping", "--count", "25", "--uses", "0")
    codes = out.split()
    assert len(codes) == len(set(codes)) == 25
    assert set(Coupon.objects.values_list("code", flat=True)) == set(codes)
    assert Coupon.objects.filter(uses_allowed__isnull=True).count() == 25
    assert CouponBatch.objects.get().generated == 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "amount"], "`value`"),
        (["--kind", "amount", "--value", "abc"], "`value`: 'abc' is not an amount"),
        (["--kind", "percent", "--value", "150"], "percent"),
        (["--kind", "amount", "--value", "5", "--expires", "2020-01-01"], "--expires"),
        (["--kind", "amount", "--value", "5", "--member", "M00000000"], "--member"),
        (["--kind", "amount", "--value", "5", "--count", "0"], "batch"),
        (["--kind", "gift", "--prefix", "no spaces"], "prefix"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_issued(args, message):
    with pytest.raises(CommandError, match=message):
        run("coupons_issue", *args)
    assert not Coupon.objects.exists()
    assert not CouponBatch.objects.exists()
