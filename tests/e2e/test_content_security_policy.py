"""Under the Content Security Policy, in a real browser: the admin's scripts run
(staff log in through the site's login page), the portal and the API's docs work,
and the browser reports no violation."""

import pytest

from tests.factories import PASSWORD, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def violations(page):
    """What the browser refused because of the policy, as its console reports it."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_staff_use_the_admin_under_the_policy(page, live_server, violations):
    staff = UserFactory(is_staff=True, is_superuser=True)
    member = MemberFactory()

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Site administration").wait_for()

    page.goto(f"{live_server.url}/admin/members/user/?q={member.user.email}")
    assert page.locator(".action-counter").inner_text() == "0 of 1 selected"
    page.locator("input.action-select").check()
    # actions.js counts the selection: the admin's scripts run.
    assert page.locator(".action-counter").inner_text() == "1 of 1 selected"

    page.goto(f"{live_server.url}/admin/members/member/")
    page.get_by_role("link", name=member.number).click()
    page.get_by_role("heading", name="Change member").wait_for()
    assert violations == []


def test_the_portal_and_the_api_docs_work_under_the_policy(page, live_server, violations):
    member = MemberFactory()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(member.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="My rewards").wait_for()

    page.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI renders the API's title from the schema: its script ran.
    page.locator(".swagger-ui .info .title").get_by_text("Loyalty shop API").wait_for()
    assert violations == []
