"""The portal and its e-mails in Simplified and Traditional Chinese: the catalogs in
locale/ are complete, and the compiled .mo files in the repository match them."""

import gettext
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

LOCALES = ["zh_Hans", "zh_Hant"]
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def catalog_path(locale: str, suffix: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / f"django.{suffix}"


def _unquote(line: str) -> str:
    text = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def read_po(path: Path) -> list[dict]:
    """Each entry of a .po file as {"flags": [...], "msgid": ..., "msgstr": ...};
    obsolete entries (#~) come back with "obsolete": True."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": [], "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
                line = line[2:].strip()
            if line.startswith(("#", "|")) and not line.startswith("#,"):
                continue
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith('"'):
                entry[key] += _unquote(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = _unquote(value)
        entries.append(entry)
    return entries


def messages(locale: str) -> list[dict]:
    return [e for e in read_po(catalog_path(locale, "po")) if e.get("msgid") and not e["obsolete"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "language", "headline"),
    [
        ("zh-hans", "zh-hans", "购物赚积分"),
        ("zh-hant", "zh-hant", "購物賺積分"),
        ("zh-CN,zh;q=0.9,en;q=0.5", "zh-hans", "购物赚积分"),
        ("zh-TW,zh;q=0.9", "zh-hant", "購物賺積分"),
        ("en", "en", "Shop, earn points"),
    ],
)
def test_the_home_page_speaks_the_browsers_language(client, accept_language, language, headline):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    assert headline in response.content.decode()


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("zh-hans", "欢迎升级为 Gold 会员"),
        ("zh-hant", "歡迎升級為 Gold 會員"),
        ("en", "Welcome to Gold"),
    ],
)
def test_the_upgrade_e_mail_subject_is_translated(language, subject):
    tier = SimpleNamespace(name="Gold")

    with translation.override(language):
        rendered = render_to_string("tiers/email/upgrade_subject.txt", {"tier": tier})

    assert rendered.strip() == subject


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale):
    entries = read_po(catalog_path(locale, "po"))

    assert [e["msgid"] for e in entries if e["obsolete"]] == [], "drop the obsolete #~ entries"
    assert [e["msgid"] for e in messages(locale) if "fuzzy" in e["flags"]] == []
    untranslated = [e["msgid"] for e in messages(locale) if not e.get("msgstr", e.get("msgstr[0]"))]
    assert untranslated == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    wrong = []
    for e in messages(locale):
        source = e.get("msgid_plural", e["msgid"])
        target = e.get("msgstr", e.get("msgstr[0]", ""))
        if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(target)):
            wrong.append(e["msgid"])
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_matches_the_po_file(locale):
    """The .mo files are committed so that a fresh clone shows Chinese; after
    editing a .po file, run `make messages`."""
    with catalog_path(locale, "mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    stale = []
    for e in messages(locale):
        if "msgid_plural" in e:
            translated = compiled.ngettext(e["msgid"], e["msgid_plural"], 1)
            expected = e["msgstr[0]"]
        else:
            translated, expected = compiled.gettext(e["msgid"]), e["msgstr"]
        if translated != expected:
            stale.append(e["msgid"])
    assert stale == []
