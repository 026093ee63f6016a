"""The API's answers are written by orjson, reading as the json module wrote them."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from ninja.responses import NinjaJSONEncoder

from loyalty_site.api import OrjsonRenderer


def test_answers_read_as_the_json_module_wrote_them():
    data = {
        "multiplier": Decimal("1.20"),
        "since": dt.datetime(2026, 10, 2, 8, 12, 0, 123456, tzinfo=dt.UTC),
        "day": dt.date(2026, 12, 7),
        "id": uuid.UUID(int=7),
        "name": gettext_lazy("Gold"),
        "text": "金卡 ünïcode",
        "rules": ["base", "tier:gold"],
        "points": 10**12,
        "none": None,
    }

    written = OrjsonRenderer().render(None, data, response_status=200)  # type: ignore[arg-type]

    assert json.loads(written) == json.loads(json.dumps(data, cls=NinjaJSONEncoder))
    assert b'"since":"2026-10-02T08:12:00.123Z"' in written
