"""Panels of the member's dashboard. The apps above `members` (points, tiers,
campaigns) add theirs at start-up, so the dashboard shows them without this app
importing those."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Member


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
