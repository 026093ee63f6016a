"""What a message's template sees besides its stored context. The context stored
in the outbox is plain JSON (ids, numbers, ISO dates), written in the transaction
that queued the message; an app whose templates need its objects (a tier, a plan,
an amount in the member's language) registers a function, in its
AppConfig.ready(), that turns the stored context into the template's; one that
reads the database registers a function of many stored contexts instead, so that
a page of messages (the inbox) costs one query per template, not one per
message."""

from collections.abc import Callable
from typing import Any

Context = dict[str, Any]
ContextFn = Callable[[Context], Context]
ContextsFn = Callable[[list[Context]], list[Context]]

_contexts: dict[str, ContextsFn] = {}
_any_status: set[str] = set()


def register_context(template: str, context: ContextFn) -> None:
    _contexts[template] = lambda stored: [context(each) for each in stored]


def register_contexts(template: str, contexts: ContextsFn) -> None:
    """`contexts` turns many stored contexts of `template` into theirs, in order."""
    _contexts[template] = contexts


def template_contexts(template: str, stored: list[Context]) -> list[Context]:
    build = _contexts.get(template)
    return build(stored) if build is not None else [dict(each) for each in stored]


def template_context(template: str, stored: Context) -> Context:
    return template_contexts(template, [stored])[0]


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
