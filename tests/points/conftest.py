import itertools

import pytest

from points.models import Entry
from points.services import Source
from tests.factories import MemberFactory, ledger_is_clean

_keys = itertools.count()


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def key():
    return lambda prefix="op": f"{prefix}-{next(_keys)}"


@pytest.fixture
def order():
    return lambda ref="1001": Source(Entry.Source.ORDER, ref)


@pytest.fixture(autouse=True)
def _ledger_stays_clean(request, db):
    yield
    if "no_audit" not in request.keywords:
        assert ledger_is_clean(), "ledger invariants broken after the test"
