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


def register_context(template: str, context: ContextFn) -> None:
    _contexts[template] = context


def template_context(template: str, stored: Context) -> Context:
    build = _contexts.get(template)
    return build(stored) if build is not None else dict(stored)
