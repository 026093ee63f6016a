"""Text messages (SMS): `SMS_URL` picks where they go, as `EMAIL_URL` does for
e-mail.

- `console://`: printed on the standard output (development);
- `file:///abs/dir`: one file per message in that absolute directory (tests,
  staging: read the codes from the files);
- `twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15017122661` (or
  `?messaging_service=MG...`): Twilio's Programmable Messaging API over HTTPS,
  authenticated with HTTP Basic (the account SID and auth token). Twilio tells
  the delivery status by POSTing to the status callback, which it signs with
  `X-Twilio-Signature` (`twilio_signature`); `twilio+http://` talks plain HTTP,
  for a local test double only.

A send that fails for a reason that may pass (the provider down, a time-out,
429, a 5xx answer) raises `SmsUnavailable`, which the outbox retries; one the
provider refuses for good (a 4xx answer: a number it cannot text) raises
`SmsRefused`, and the message is not tried again.
"""

import base64
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 10
TWILIO_API_VERSION = "2010-04-01"


class SmsError(Exception):
    pass


class SmsUnavailable(SmsError):
    """The provider could not take the message now: try again later."""


class SmsRefused(SmsError):
    """The provider refused the message for good (e.g. a number it cannot text)."""


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    body: str
    status_callback: str = ""  # where the provider reports delivery, if it does


class Backend(Protocol):
    def send(self, sms: Sms) -> str:
        """Send one message; returns the provider's id of it."""
        ...


class ConsoleBackend:
    def send(self, sms: Sms) -> str:
        sys.stdout.write(f"SMS to {sms.to}:\n{sms.body}\n{'-' * 40}\n")
        sys.stdout.flush()
        return ""


class FileBackend:
    """One file per message, named by time and a random suffix: the recipient on
    the first line, a blank line, then the text."""

    def __init__(self, directory: str) -> None:
        if not directory.startswith("/"):
            raise ImproperlyConfigured(
                f"SMS_URL file:// needs an absolute directory, not {directory!r}"
            )
        self.directory = Path(directory)

    def send(self, sms: Sms) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}"
        path = self.directory / f"{name}.sms"
        path.write_text(f"To: {sms.to}\n\n{sms.body}\n", encoding="utf-8")
        return name


class TwilioBackend:
    """POST /2010-04-01/Accounts/{sid}/Messages.json with To, From (or
    MessagingServiceSid), Body and StatusCallback, authenticated with Basic auth."""

    def __init__(
        self, *, base: str, account_sid: str, auth_token: str, sender: str, service: str
    ) -> None:
        if not account_sid or not auth_token:
            raise ImproperlyConfigured("SMS_URL twilio:// needs ACCOUNT_SID:AUTH_TOKEN@host")
        if not sender and not service:
            raise ImproperlyConfigured(
                "SMS_URL twilio:// needs ?from=+... or ?messaging_service=MG..."
            )
        self.url = f"{base}/{TWILIO_API_VERSION}/Accounts/{account_sid}/Messages.json"
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.service = service

    def send(self, sms: Sms) -> str:
        fields = {"To": sms.to, "Body": sms.body}
        if self.service:
            fields["MessagingServiceSid"] = self.service
        else:
            fields["From"] = self.sender
        if sms.status_callback:
            fields["StatusCallback"] = sms.status_callback
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - http(s) only, from SMS_URL
            self.url,
            data=urllib.parse.urlencode(fields).encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": "loyalty-sms/1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                return str(json.loads(answer.read() or b"{}").get("sid", ""))
        except urllib.error.HTTPError as answer:
            detail = _twilio_error(answer)
            if answer.code == 429 or answer.code >= 500:
                raise SmsUnavailable(f"Twilio answered {answer.code}: {detail}") from None
            raise SmsRefused(f"Twilio refused it ({answer.code}): {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise SmsUnavailable(f"Twilio could not be reached: {error}") from None


def _twilio_error(answer: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(answer.read() or b"{}")
    except ValueError:
        return answer.reason or ""
    return f"{body.get('code', '')} {body.get('message', '')}".strip()


def backend_from_url(url: str) -> Backend:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if parts.scheme == "console":
        return ConsoleBackend()
    if parts.scheme == "file":
        return FileBackend(parts.netloc + parts.path)
    if parts.scheme in ("twilio", "twilio+http"):
        scheme = "http" if parts.scheme == "twilio+http" else "https"
        host = parts.hostname or "api.twilio.com"
        port = f":{parts.port}" if parts.port else ""
        return TwilioBackend(
            base=f"{scheme}://{host}{port}",
            account_sid=urllib.parse.unquote(parts.username or ""),
            auth_token=urllib.parse.unquote(parts.password or ""),
            sender=query.get("from", ""),
            service=query.get("messaging_service", ""),
        )
    raise ImproperlyConfigured(
        f"SMS_URL {parts.scheme}:// is not a known backend (console://, file:///dir, twilio://)"
    )


@cache
def _backend(url: str) -> Backend:
    return backend_from_url(url)


def sms_backend() -> Backend:
    return _backend(settings.SMS_URL)


def sms_send(*, to: str, body: str, status_callback: str = "") -> str:
    """Send a text now through SMS_URL's backend; returns the provider's id."""
    provider_id = sms_backend().send(Sms(to=to, body=body, status_callback=status_callback))
    log.info("sms_sent", provider_id=provider_id, length=len(body))
    return provider_id


def twilio_signature(*, auth_token: str, url: str, params: dict[str, str]) -> str:
    """What Twilio puts in X-Twilio-Signature of a request it makes to `url` with
    form `params`: base64 HMAC-SHA1 of the URL followed by each parameter's name
    and value, sorted by name, keyed with the auth token."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(*, url: str, params: dict[str, str], signature: str) -> bool:
    backend = sms_backend()
    if not isinstance(backend, TwilioBackend) or not signature:
        return False
    expected = twilio_signature(auth_token=backend.auth_token, url=url, params=params)
    return hmac.compare_digest(expected, signature)
