"""Campaign documents for the tests: the SPEC's example, and a minimal one of
each kind, changed by keyword."""

import copy

SPEC_EXAMPLE = {
    "code": "double-weekend",
    "name": "Double points at the weekend",
    "kind": "multiplier",
    "active": True,
    "starts_at": "2026-12-01T00:00:00+08:00",
    "ends_at": None,
    "priority": 10,
    "stackable": True,
    "target": {"tiers": ["gold", "diamond"], "segments": ["active"], "paid_plan": None},
    "conditions": {"weekdays": [6, 7], "categories": [], "skus": [], "min_total": None},
    "reward": {"multiplier": "2.0"},
    "budget": {"points": 100000, "per_member": 2000},
    "ab": {"variants": {"A": 50, "B": 50}, "control": "A"},
}

MINIMAL = {
    "multiplier": {"reward": {"multiplier": "2"}},
    "member_day": {"conditions": {"days_of_month": [18]}, "reward": {"multiplier": "2"}},
    "order_bonus": {"conditions": {"min_total": "199.00"}, "reward": {"points": 100}},
    "welcome": {"reward": {"points": 200}},
    "signup": {"reward": {"points": 50}},
    "referral": {"referral": {"referrer_points": 300, "referee_points": 100, "monthly_cap": 5}},
    "birthday": {"reward": {"points": 500}},
    "challenge": {
        "challenge": {"orders": 3, "spend": None, "within_days": 30},
        "reward": {"points": 400},
    },
    "win_back": {"win_back": {"dormant_days": 90}, "reward": {"points": 300}},
}


def campaign_doc(kind: str = "multiplier", code: str | None = None, **fields: object) -> dict:
    document = {
        "code": code or f"test-{kind}".replace("_", "-"),
        "name": f"Test {kind}",
        "kind": kind,
        **copy.deepcopy(MINIMAL[kind]),
    }
    document.update(fields)
    return document
