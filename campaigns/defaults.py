"""The demo's campaigns (`seed_demo`): one of each kind that runs by itself."""

DEMO_CAMPAIGNS = [
    {"code": "double-weekend", "name": "Double points at the weekend", "kind": "multiplier",
     "priority": 10, "stackable": True, "conditions": {"weekdays": [6, 7]},
     "reward": {"multiplier": "2.0"}, "budget": {"points": 100000, "per_member": 2000},
     "ab": {"variants": {"A": 50, "B": 50}, "control": "A"}},
    {"code": "member-day", "name": "Member day: double points on the 18th", "kind": "member_day",
     "priority": 20, "conditions": {"days_of_month": [18]}, "reward": {"multiplier": "2"}},
    {"code": "big-basket", "name": "100 points on orders of 299 or more", "kind": "order_bonus",
     "stackable": True, "conditions": {"min_total": "299.00"}, "reward": {"points": 100}},
    {"code": "welcome", "name": "200 points on the first order", "kind": "welcome",
     "stackable": True, "reward": {"points": 200}},
    {"code": "signup", "name": "50 points for verifying your e-mail", "kind": "signup",
     "reward": {"points": 50}},
    {"code": "refer-a-friend", "name": "Refer a friend", "kind": "referral",
     "referral": {"referrer_points": 300, "referee_points": 100, "monthly_cap": 5}},
    {"code": "birthday", "name": "Birthday gift", "kind": "birthday", "reward": {"points": 500}},
    {"code": "silver-sprint", "name": "Sprint: 2 orders in 30 days", "kind": "challenge",
     "target": {"sprint": True}, "challenge": {"orders": 2, "within_days": 30},
     "reward": {"points": 300}},
    {"code": "come-back", "name": "We miss you", "kind": "win_back",
     "win_back": {"dormant_days": 90}, "reward": {"points": 300}},
]  # fmt: skip
