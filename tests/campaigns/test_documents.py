import pytest

from campaigns.documents import KINDS, DocumentErrors, document_dump, document_parse
from tests.campaigns.documents import SPEC_EXAMPLE, campaign_doc


def _errors(data):
    with pytest.raises(DocumentErrors) as caught:
        document_parse(data)
    return dict(caught.value.errors)


def test_the_specs_example_is_valid_and_round_trips():
    document = document_parse(SPEC_EXAMPLE)

    assert document.kind == "multiplier"
    assert document_parse(document_dump(document)) == document
    assert document_dump(document)["reward"] == {"multiplier": "2.0"}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_minimal_valid_document(kind):
    assert document_parse(campaign_doc(kind)).kind == kind


def test_every_error_is_listed_with_its_path():
    data = {
        **SPEC_EXAMPLE,
        "reward": {"multiplier": "0.5"},
        "conditions": {"weekdays": [0, 7], "min_total": "1.001"},
        "surprise": True,
    }

    errors = _errors(data)

    assert set(errors) == {
        "reward.multiplier",
        "conditions.weekdays[0]",
        "conditions.min_total",
        "surprise",
    }
    assert "2 decimal places" in errors["conditions.min_total"]


def test_an_unknown_kind_is_an_error_of_kind():
    assert "kind" in _errors({**SPEC_EXAMPLE, "kind": "lottery"})


def test_fields_of_another_kind_are_refused():
    assert "referral" in _errors(campaign_doc("multiplier", referral={"monthly_cap": 1}))


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (campaign_doc("order_bonus", conditions={}), "conditions.min_total"),
        (campaign_doc("member_day", conditions={"days_of_month": []}), "conditions.days_of_month"),
        (campaign_doc("birthday", reward={"points": 5, "reward": "GIFT"}), "reward"),
        (campaign_doc("challenge", challenge={"within_days": 30}), "challenge"),
        (campaign_doc(ab={"variants": {"A": 1, "B": 1}, "control": "C"}), "ab"),
        (campaign_doc(ab={"variants": {"A": 1}, "control": "A"}), "ab"),
        (
            campaign_doc(starts_at="2026-12-02T00:00:00+08:00", ends_at="2026-12-01T00:00:00Z"),
            "ends_at",
        ),
        (campaign_doc(starts_at="2026-12-02T00:00:00"), "starts_at"),
        (campaign_doc(code="Bad Code"), "code"),
        (campaign_doc(target={"segments": ["sleepy"]}), "target.segments[0]"),
    ],
)
def test_kind_rules_are_checked(data, path):
    assert path in _errors(data)
