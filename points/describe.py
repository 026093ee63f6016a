"""Each ledger entry in words, for the member's points history: the order, the
campaign, the reward, the refund. The apps above `points` that name the sources
(rewards, campaigns) register a lookup of their names at start-up, so a page of
entries costs one query per kind of source, whatever its length."""

from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from .models import Entry

# source type -> function from the entries' source refs to the names to show
_names: dict[str, Callable[[set[str]], dict[str, str]]] = {}


def register_names(source_type: str, names: Callable[[set[str]], dict[str, str]]) -> None:
    _names[source_type] = names


def _key(entry: Entry) -> str:
    """The part of a source ref a name is looked up by: a campaign's code before
    the order it paid on ("double-weekend/42")."""
    return entry.source_ref.split("/", 1)[0]


def _describe(entry: Entry, name: str | None) -> str:
    kind, source, ref = entry.kind, entry.source_type, entry.source_ref
    Kind, Source = Entry.Kind, Entry.Source
    if source == Source.SYSTEM:
        if kind == Kind.EXPIRE:
            return _("Points expired")
        if kind == Kind.RELEASE:
            return _("Pending points are now yours to spend")
    if source == Source.ORDER:
        if kind == Kind.REVERSE:
            return _("Order %(order)s cancelled: its points taken back") % {"order": ref}
        if kind == Kind.EXPIRE:
            return _("Points from order %(order)s expired") % {"order": ref}
        if kind == Kind.PENDING:
            return _("Order %(order)s: points pending until the return window closes") % {
                "order": ref
            }
        return _("Points for order %(order)s") % {"order": ref}
    if source == Source.REFUND:
        return _("Refund %(refund)s: points taken back") % {"refund": ref}
    if source == Source.CAMPAIGN:
        campaign = name or _key(entry)
        if kind == Kind.REVERSE:
            return _("%(campaign)s: bonus taken back after a refund") % {"campaign": campaign}
        return _("Bonus: %(campaign)s") % {"campaign": campaign}
    if source == Source.REWARD:
        if kind == Kind.CANCEL:
            return _("Reward cancelled: points given back")
        if name:
            return _("Spent on %(reward)s") % {"reward": name}
        return _("Spent at checkout (%(order)s)") % {"order": ref}
    if source == Source.EVENT:
        return _("For your review or share (%(event)s)") % {"event": ref}
    if source == Source.STAFF:
        return _("Adjusted by our team")
    return str(entry.get_kind_display())


def entries_describe(entries: Iterable[Entry]) -> list[tuple[Entry, str]]:
    """Each entry with what it was for, in the active language."""
    entries = list(entries)
    names: dict[tuple[str, str], str] = {}
    for source_type, lookup in _names.items():
        refs = {_key(entry) for entry in entries if entry.source_type == source_type}
        if refs:
            names.update(((source_type, ref), name) for ref, name in lookup(refs).items())
    return [
        (entry, _describe(entry, names.get((entry.source_type, _key(entry))))) for entry in entries
    ]
