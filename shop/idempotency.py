"""Telling a retried request from a different one that reuses its id.

A write keyed by the shop's id (order_id, refund_id, ...) stores the fingerprint of
the request it came from. The same id again with the same fingerprint is a retry
(answer as the first time); with another fingerprint it is a conflict (409).
"""

import hashlib
import json


def fingerprint(payload: object) -> str:
    """SHA-256 of `payload` as canonical JSON (sorted keys, no spaces), so that key
    order and formatting do not matter. Pass the validated body, e.g.
    `fingerprint(body.model_dump(mode="json"))`."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
