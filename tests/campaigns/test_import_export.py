import json

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Campaign
from tests.campaigns.documents import SPEC_EXAMPLE, campaign_doc

pytestmark = pytest.mark.django_db


def _import(tmp_path, documents, capsys=None):
    path = tmp_path / "campaigns.json"
    path.write_text(json.dumps(documents))
    call_command("campaigns_import", str(path))


def test_import_creates_then_updates_by_code(tmp_path, capsys):
    _import(tmp_path, [SPEC_EXAMPLE, campaign_doc("welcome")])
    assert "2 created, 0 updated" in capsys.readouterr().out

    _import(tmp_path, [{**SPEC_EXAMPLE, "name": "Weekend x2", "priority": 3}])

    assert "0 created, 1 updated" in capsys.readouterr().out
    campaign = Campaign.objects.get(code="double-weekend")
    assert (campaign.name, campaign.priority, campaign.kind) == ("Weekend x2", 3, "multiplier")
    assert campaign.document["name"] == "Weekend x2"
    assert (campaign.stackable, campaign.budget_points) == (True, 100_000)
    assert Campaign.objects.count() == 2


def test_an_import_with_errors_writes_nothing_and_lists_every_error(tmp_path, capsys):
    good = campaign_doc("welcome")
    bad = {**SPEC_EXAMPLE, "reward": {"multiplier": "x"}}
    duplicate = campaign_doc("welcome", name="again")

    with pytest.raises(CommandError, match="no campaign was written"):
        _import(tmp_path, [good, bad, duplicate])

    err = capsys.readouterr().err
    assert "[1].reward.multiplier:" in err
    assert "[2].code: also the code of [0]" in err
    assert not Campaign.objects.exists()


def test_a_budget_below_what_was_given_is_refused(tmp_path, capsys):
    _import(tmp_path, [SPEC_EXAMPLE])
    Campaign.objects.filter(code="double-weekend").update(spent=5000)

    with pytest.raises(CommandError):
        _import(tmp_path, [{**SPEC_EXAMPLE, "budget": {"points": 4000}}])

    assert "[0].budget.points: below the 5000 points" in capsys.readouterr().err
    assert Campaign.objects.get().budget_points == 100_000


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "campaigns.json"
    path.write_text("{nope")

    with pytest.raises(CommandError, match="cannot read"):
        call_command("campaigns_import", str(path))


def test_export_prints_what_import_reads(tmp_path, capsys):
    _import(tmp_path, [SPEC_EXAMPLE, campaign_doc("birthday")])
    capsys.readouterr()

    call_command("campaigns_export")
    exported = json.loads(capsys.readouterr().out)
    Campaign.objects.all().delete()
    _import(tmp_path, exported)

    assert [d["code"] for d in exported] == ["double-weekend", "test-birthday"]
    assert list(Campaign.objects.order_by("code").values_list("document", flat=True)) == exported
