"""Batches of unique codes: exactly N, all unique, resumable, the CSV complete."""

import tracemalloc

import pytest

from rewards.errors import Invalid
from rewards.models import Coupon, CouponBatch
from rewards.services import batches
from rewards.services.batches import (
    coupon_batch_codes,
    coupon_batch_create,
    coupon_batch_generate,
)
from rewards.services.coupons import CouponSpec

pytestmark = pytest.mark.django_db


def make_batch(count, **kwargs):
    return coupon_batch_create(
        name="promo", count=count, spec=CouponSpec(kind="amount", amount_minor=500), **kwargs
    )


def test_a_batch_makes_exactly_its_count_of_codes_with_its_terms(monkeypatch):
    monkeypatch.setattr(batches, "CHUNK", 7)
    progress = []
    batch = coupon_batch_generate(
        batch_id=make_batch(20, prefix="xmas-").pk, progress=lambda d, t: progress.append(d)
    )
    assert batch.status == "done" and batch.generated == 20
    assert progress == [7, 14, 20]
    codes = list(coupon_batch_codes(batch=batch))
    assert len(codes) == len(set(codes)) == 20
    assert all(code.startswith("XMAS-") for code in codes)
    assert set(Coupon.objects.values_list("kind", "amount_minor", "source")) == {
        ("amount", 500, "staff")
    }


def test_a_clash_of_random_codes_is_made_up(monkeypatch):
    taken = Coupon.objects.create(code="SAMECODE00", kind="gift", source="staff")
    codes = iter([taken.code, "FRESH00001", "FRESH00002", "FRESH00003"])
    monkeypatch.setattr(
        batches, "codes_generate", lambda count, prefix="": [next(codes) for _ in range(count)]
    )
    monkeypatch.setattr(batches, "CHUNK", 2)
    batch = coupon_batch_generate(batch_id=make_batch(2).pk)
    assert sorted(coupon_batch_codes(batch=batch)) == ["FRESH00001", "FRESH00002"]


def test_a_run_again_after_a_crash_finishes_the_batch(monkeypatch):
    monkeypatch.setattr(batches, "CHUNK", 5)
    batch = make_batch(12)
    calls = {"n": 0}
    real = batches._insert_codes

    def crash_on_second_chunk(batch, codes):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(batch, codes)

    monkeypatch.setattr(batches, "_insert_codes", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        coupon_batch_generate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.generated) == ("failed", 5)
    done = coupon_batch_generate(batch_id=batch.pk)
    assert (done.status, done.generated) == ("done", 12)
    assert Coupon.objects.filter(batch=batch).count() == 12


@pytest.mark.parametrize("count", [0, 1_000_001])
def test_a_batch_has_one_to_a_million_codes(count):
    with pytest.raises(Invalid):
        make_batch(count)
    assert not CouponBatch.objects.exists()


@pytest.mark.postgres
def test_a_hundred_thousand_codes_all_unique_csv_complete_memory_flat():
    """The peak memory of generating and reading back 100,000 codes is no more
    than of 10,000 (plus a margin): it does not grow with the batch."""

    def peak_of(count):
        tracemalloc.start()
        batch = coupon_batch_generate(batch_id=make_batch(count).pk)
        read = sum(1 for _code in coupon_batch_codes(batch=batch))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return batch, read, peak

    _small, small_read, small_peak = peak_of(10_000)
    batch, read, peak = peak_of(100_000)
    assert small_read == 10_000
    assert read == batch.generated == 100_000
    codes = Coupon.objects.filter(batch=batch).values_list("code", flat=True)
    assert len(set(codes)) == 100_000
    assert peak < small_peak + 2 * 1024 * 1024, (small_peak, peak)
