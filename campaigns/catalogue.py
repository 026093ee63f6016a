"""Campaigns as data: saving, importing and exporting their documents, and the
per-process cache the order path reads them from.

The order path never queries campaigns: it reads the active ones from a cache
kept in each process, refilled after `CAMPAIGN_CACHE_SECONDS` and emptied at
once in the process that saves a campaign (the admin, an import); other
processes see a change within that many seconds. The budget is not cached: it
is the `spent` column, raised by a conditional update in the order's
transaction.
"""

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rewards.models import Reward

from .documents import Document, DocumentErrors, document_dump, document_parse
from .models import Campaign


@dataclass(frozen=True)
class CachedCampaign:
    id: int
    document: Document


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


_cache_lock = threading.Lock()
_cache: tuple[float, list[CachedCampaign]] | None = None


def campaigns_cache_clear() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def campaigns_active() -> list[CachedCampaign]:
    """The active campaigns' documents, from this process's cache."""
    global _cache
    now = time.monotonic()
    cached = _cache
    if cached is not None and now < cached[0]:
        return cached[1]
    rows = Campaign.objects.filter(active=True).values_list("id", "document")
    campaigns = [CachedCampaign(id=pk, document=document_parse(doc)) for pk, doc in rows]
    with _cache_lock:
        _cache = (now + settings.CAMPAIGN_CACHE_SECONDS, campaigns)
    return campaigns


def _columns(document: Document) -> dict:
    return {
        "name": document.name,
        "name_zh_hans": document.name_zh_hans,
        "name_zh_hant": document.name_zh_hant,
        "kind": document.kind,
        "active": document.active,
        "starts_at": document.starts_at,
        "ends_at": document.ends_at,
        "priority": document.priority,
        "stackable": document.stackable,
        "budget_points": document.budget.points,
        "document": document_dump(document),
    }


def _budget_errors(document: Document, spent: int) -> list[tuple[str, str]]:
    if document.budget.points is not None and document.budget.points < spent:
        return [("budget.points", f"below the {spent} points the campaign has already given")]
    return []


def _reward_errors(document: Document) -> list[tuple[str, str]]:
    """A gift of a reward must name a reward that issues a coupon."""
    code = getattr(getattr(document, "reward", None), "reward", None)
    if code is None:
        return []
    kinds = [Reward.Kind.COUPON, Reward.Kind.VOUCHER]
    if not Reward.objects.filter(code=code, kind__in=kinds).exists():
        return [("reward.reward", f"no coupon or voucher reward has the code {code!r}")]
    return []


def campaign_check(*, data: object, instance: Campaign | None = None) -> Document:
    """The document `data` validated for saving as a new campaign, or over
    `instance`: its code may not be another campaign's, its budget not below
    what it has given. Raises DocumentErrors."""
    document = document_parse(data)
    errors = _reward_errors(document)
    clash = Campaign.objects.filter(code=document.code)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
        errors += _budget_errors(document, instance.spent)
    if clash.exists():
        errors.append(("code", f"another campaign has the code {document.code!r}"))
    if errors:
        raise DocumentErrors(errors)
    return document


def campaign_save(*, document: Document, instance: Campaign | None = None) -> Campaign:
    """Write a validated document: into `instance`, or into the campaign with its
    code (a new one if none has it)."""
    now = timezone.now()
    columns = {**_columns(document), "updated_at": now}
    if instance is None:
        instance, _created = Campaign.objects.update_or_create(
            code=document.code, defaults=columns, create_defaults={**columns, "created_at": now}
        )
    else:
        Campaign.objects.filter(pk=instance.pk).update(code=document.code, **columns)
        instance.refresh_from_db()
    transaction.on_commit(campaigns_cache_clear)
    campaigns_cache_clear()
    return instance


def campaigns_import(*, documents: object) -> ImportResult:
    """Upsert a list of documents by code, all or nothing: DocumentErrors lists
    every error of every document, each path led by the document's index."""
    if not isinstance(documents, list):
        raise DocumentErrors([("(file)", "expected a JSON array of campaign documents")])
    errors: list[tuple[str, str]] = []
    parsed: list[Document] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(documents):
        try:
            document = document_parse(data)
        except DocumentErrors as error:
            errors += [(f"[{index}].{path}", message) for path, message in error.errors]
            continue
        errors += [(f"[{index}].{path}", message) for path, message in _reward_errors(document)]
        if document.code in seen:
            errors.append((f"[{index}].code", f"also the code of [{seen[document.code]}]"))
        seen[document.code] = index
        parsed.append(document)
    spent = dict(Campaign.objects.filter(code__in=seen).values_list("code", "spent"))
    for document in parsed:
        errors += [
            (f"[{seen[document.code]}].{path}", message)
            for path, message in _budget_errors(document, spent.get(document.code, 0))
        ]
    if errors:
        raise DocumentErrors(errors)
    with transaction.atomic():
        for document in parsed:
            campaign_save(document=document)
    return ImportResult(created=len(parsed) - len(spent), updated=len(spent))


def campaigns_export(*, codes: Iterable[str] | None = None) -> list[dict]:
    """Every campaign's document (or those of `codes`), by code."""
    campaigns = Campaign.objects.order_by("code")
    if codes is not None:
        campaigns = campaigns.filter(code__in=list(codes))
    return list(campaigns.values_list("document", flat=True))
