"""What a message's template sees besides its stored context. The context stored
in the outbox is plain JSON (ids, numbers, ISO dates), written in the transaction
that queued the message; an app whose templates need its objects (a tier, a plan,
an amount in the member's language) registers a function, in its
AppConfig.ready(), that turns the stored context into the template's."""

from collections.abc import Callable
from typing import Any

Context = dict[str, Any]
ContextFn = Callable[[Context], Context]

_contexts: dict[str, ContextFn] = {}
_any_status: set[str] = set()


def register_context(template: str, context: ContextFn) -> None:
    _contexts[template] = context


def template_context(template: str, stored: Context) -> Context:
    build = _contexts.get(template)
    return build(stored) if build is not None else dict(stored)


def register_status_notice(template: str) -> None:
    """Messages of `template` tell the member about their own status (a sanction):
    they go to a restricted or frozen member too, whom the outbox otherwise does
    not write to. A closed member is never written to."""
    _any_status.add(template)


def is_status_notice(template: str) -> bool:
    return template in _any_status


# Templates that also go by SMS and Web Push, to members who can get them: the
# app registers, in its AppConfig.ready(), the channels it wrote templates for
# (`<app>/sms/<name>.txt`, `<app>/push/<name>_title.txt` and `_body.txt`).
_channels: dict[str, tuple[str, ...]] = {}


def register_channels(template: str, channels: tuple[str, ...]) -> None:
    _channels[template] = channels


def template_channels(template: str) -> tuple[str, ...]:
    return _channels.get(template, ())
