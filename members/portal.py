"""What the apps above `members` (points, tiers, rewards, campaigns, ...) add to
the member portal at start-up, so that the portal shows them without this app
importing those: the dashboard's panels, the navigation's links and the
sections of the member's data export."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from .models import Member, Sanction

WARNING_SHOWN_DAYS = 30  # a warning is shown on every page for this long


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[Member], dict[str, Any]]


_panels: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)


def dashboard_panels(member: Member) -> list[tuple[str, dict[str, Any]]]:
    return [(panel.template, panel.context(member)) for panel in _panels]


@dataclass(frozen=True)
class NavItem:
    """A link of the portal's navigation. `count`, when given, is shown beside
    the label when it is not zero (the inbox's unread messages)."""

    order: int
    url_name: str
    label: Promise | str
    count: Callable[[Member], int] | None = None


_nav: list[NavItem] = []


def register_nav_item(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)
        _nav.sort(key=lambda i: i.order)


@dataclass(frozen=True)
class NavLink:
    key: str  # the url name, as an HTML id: "notifications-inbox"
    url: str
    label: Promise | str
    counted: bool
    count: int
    current: bool


def nav_links(*, member: Member, path: str) -> list[NavLink]:
    """The navigation of a member's page at `path`: the dashboard is current only
    on itself, every other link on its pages and below."""
    links = []
    for item in _nav:
        url = reverse(item.url_name)
        current = path == url if url.rstrip("/").endswith("/me") else path.startswith(url)
        count = item.count(member) if item.count is not None else 0
        links.append(
            NavLink(
                key=item.url_name.replace(":", "-"),
                url=url,
                label=item.label,
                counted=item.count is not None,
                count=count,
                current=current,
            )
        )
    return links


def member_standing(member: Member) -> str:
    """What every portal page tells the member about their standing: "restricted"
    (they earn and spend nothing until it is lifted), "warned" (staff warned them
    in the last WARNING_SHOWN_DAYS days and gave no sanction since) or ""."""
    if member.status == Member.Status.RESTRICTED:
        return "restricted"
    since = timezone.now() - dt.timedelta(days=WARNING_SHOWN_DAYS)
    latest = (
        Sanction.objects.filter(member=member, created_at__gte=since)
        .order_by("-created_at")
        .values_list("kind", flat=True)
        .first()
    )
    return "warned" if latest == Sanction.Kind.WARN else ""


def portal_context(request: HttpRequest) -> dict[str, Any]:
    """Template context of every page: the logged-in member's navigation and
    standing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    member = getattr(user, "member", None)
    if member is None:
        return {}
    return {
        "portal_nav": nav_links(member=member, path=request.path),
        "portal_standing": member_standing(member),
    }


_exports: list[tuple[str, Callable[..., Any]]] = []


def register_export(name: str, section: Callable[..., Any]) -> None:
    """A section of the member's data export (`/me/privacy/`): each app adds
    what it keeps about the member, as JSON-ready data: `section(member=...)`."""
    if all(existing != name for existing, _section in _exports):
        _exports.append((name, section))


def export_sections(member: Member) -> dict[str, Any]:
    return {name: section(member=member) for name, section in _exports}
