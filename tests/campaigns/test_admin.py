import json

import pytest
from django.urls import reverse

from campaigns.catalogue import campaigns_active
from campaigns.models import Campaign
from tests.campaigns.documents import campaign_doc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _post(client, document, url=None, **extra):
    url = url or reverse("admin:campaigns_campaign_add")
    return client.post(url, {"document_json": json.dumps(document), **extra})


def test_staff_add_a_campaign_as_its_document(staff_client):
    response = _post(staff_client, campaign_doc(code="double", priority=4))

    assert response.status_code == 302
    campaign = Campaign.objects.get(code="double")
    assert (campaign.kind, campaign.priority, campaign.document["reward"]) == (
        "multiplier",
        4,
        {"multiplier": "2"},
    )


def test_a_bad_document_is_refused_with_each_errors_path(staff_client):
    response = _post(staff_client, campaign_doc(reward={"multiplier": "0"}, extra=1))

    assert response.status_code == 200
    content = response.content.decode()
    assert "reward.multiplier: Input should be greater than 1" in content
    assert "extra: Extra inputs are not permitted" in content
    assert not Campaign.objects.exists()


def test_editing_changes_the_campaign_and_the_cache_of_this_process(staff_client):
    _post(staff_client, campaign_doc(code="double"))
    campaign = Campaign.objects.get()
    assert campaigns_active()[0].document.priority == 0
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    form = staff_client.get(url).context["adminform"].form
    assert json.loads(form["document_json"].value())["code"] == "double"

    response = _post(staff_client, campaign_doc(code="double", priority=7), url=url)

    assert response.status_code == 302
    assert Campaign.objects.get().priority == 7
    assert campaigns_active()[0].document.priority == 7


def test_a_new_campaign_may_not_take_an_existing_code(staff_client):
    _post(staff_client, campaign_doc(code="double"))

    response = _post(staff_client, campaign_doc(code="double", priority=7))

    assert "another campaign has the code" in response.content.decode()
    assert Campaign.objects.get().priority == 0


def test_preview_shows_what_a_sample_order_earns_and_saves_nothing(staff_client):
    _post(staff_client, campaign_doc("order_bonus", code="bonus", stackable=True))
    document = campaign_doc(code="weekend", conditions={"weekdays": [6]})

    response = _post(
        staff_client,
        document,
        _preview="Preview",
        sample_placed_at="2026-12-05 10:00",
        sample_lines="TEA-1, tea, 250.00",
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "nothing was saved" in content
    assert 'id="campaign-preview"' in content
    assert "+250" in content and "+100" in content  # x2 on 250 units; the bonus over 199
    assert not Campaign.objects.filter(code="weekend").exists()


def test_the_list_says_when_a_campaign_is_out_of_budget(staff_client):
    _post(staff_client, campaign_doc(code="double", budget={"points": 100}))
    Campaign.objects.update(spent=100)

    response = staff_client.get(reverse("admin:campaigns_campaign_changelist"))

    assert "out of budget: 100 of 100 given" in response.content.decode()


def test_segments_rfm_bounds_and_referrals_pages_render(staff_client):
    for name in (
        "campaigns_membersegment_changelist",
        "campaigns_rfmbounds_changelist",
        "campaigns_referral_changelist",
    ):
        assert staff_client.get(reverse(f"admin:{name}")).status_code == 200
