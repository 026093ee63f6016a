"""On PostgreSQL an order's statements are prepared once on a connection, whatever
the number of its lines and of the campaigns it applies and however large its
numbers: one statement text and one set of parameter types each."""

import pytest
from django.db import connection

from campaigns.catalogue import campaign_save, campaigns_cache_clear
from campaigns.documents import document_parse
from points.models import Entry, Lot
from shop.models import OrderLine
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, ledger_is_clean, order_place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_cached_campaigns():
    campaigns_cache_clear()
    yield
    campaigns_cache_clear()


def _prepared(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement ~ %s",
            [rf"^\s*INSERT INTO {table}"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_orders_of_every_size_share_one_prepared_statement_per_insert(settings):
    settings.DATABASE_PREPARE_THRESHOLD = 1  # prepared on a statement's second run
    for n in range(1, 5):  # each stacks on an order of n hundred yuan or more
        campaign_save(
            document=document_parse(
                campaign_doc(
                    "order_bonus",
                    code=f"bonus-{n}",
                    stackable=True,
                    conditions={"min_total": f"{n}00.00"},
                )
            )
        )
    member = MemberFactory()
    bonuses = set()
    for total in (5_000, 15_000, 25_000, 35_000, 45_000, 3_000_000_000):
        for count in (1, 3):
            lines = [("SKU-0", 1, total - 100 * (count - 1))]
            lines += [(f"SKU-{i}", 1, 100) for i in range(1, count)]
            _order, result = order_place(member, total, lines=lines)
            bonuses.add(sum(rule.startswith("bonus-") for rule in result.rules))

    assert bonuses == {0, 1, 2, 3, 4}
    for table in (Entry._meta.db_table, Lot._meta.db_table, OrderLine._meta.db_table):
        assert len(_prepared(table)) == 1, (table, _prepared(""))
    assert ledger_is_clean()
