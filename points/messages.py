"""The points' messages to members, sent through the outbox (`notifications`)."""

import datetime as dt

from notifications.registry import Context

EXPIRING = "points.expiring"


def expiring_context(stored: Context) -> Context:
    """The expiry warning's stored context ({"warnings": [{"points", "expires_on"
    (ISO date)}]}) with its days as dates, for the template."""
    return {
        "warnings": [
            {
                "points": warning["points"],
                "expires_on": dt.date.fromisoformat(warning["expires_on"]),
            }
            for warning in stored["warnings"]
        ],
        "push_path": "/me/points/",
    }
