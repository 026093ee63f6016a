"""SMS: each SMS_URL backend, Twilio's API as Twilio checks it (a local fake),
its signed delivery reports, and SMS as an outbox channel (consent, cap,
retries)."""

import datetime as dt
import urllib.parse

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from members.models import Member
from notifications.models import Message
from notifications.services import outbox_send_due
from notifications.sms import (
    SmsRefused,
    SmsUnavailable,
    backend_from_url,
    sms_send,
    twilio_signature,
)
from tests.factories import MemberFactory
from tests.notifications.test_outbox import NOON, queue

from .fakes import FakeServer, FakeTwilio

pytestmark = pytest.mark.django_db

SID, TOKEN = "AC" + "1" * 32, "secret-auth-token"
PHONE = "+8613800138000"


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def texted():
    return MemberFactory(phone=PHONE, phone_verified_at=timezone.now())


@pytest.fixture
def twilio(settings):
    provider = FakeTwilio(SID, TOKEN)
    with FakeServer(provider) as server:
        settings.SMS_URL = (
            f"twilio+http://{SID}:{TOKEN}@127.0.0.1:{server.port}?from=%2B15005550006"
        )
        provider.server = server
        yield provider


def test_the_console_backend_prints_the_text(settings, capsys):
    settings.SMS_URL = "console://"
    sms_send(to=PHONE, body="Your code is 123456")
    assert f"SMS to {PHONE}:\nYour code is 123456" in capsys.readouterr().out


def test_the_file_backend_writes_a_file_per_text_in_an_absolute_directory(settings, tmp_path):
    settings.SMS_URL = f"file://{tmp_path}/texts"
    sms_send(to=PHONE, body="one")
    sms_send(to=PHONE, body="two")
    texts = sorted(path.read_text() for path in (tmp_path / "texts").iterdir())
    assert texts == [f"To: {PHONE}\n\none\n", f"To: {PHONE}\n\ntwo\n"]
    with pytest.raises(ImproperlyConfigured):
        backend_from_url("file://relative/dir")


def test_an_unknown_backend_or_a_twilio_url_without_credentials_is_refused():
    with pytest.raises(ImproperlyConfigured):
        backend_from_url("carrier-pigeon://")
    with pytest.raises(ImproperlyConfigured):
        backend_from_url("twilio://api.twilio.com?from=%2B15005550006")


def test_twilio_gets_the_text_with_basic_auth_and_the_form_it_expects(twilio):
    sid = sms_send(to=PHONE, body="积分即将过期", status_callback="https://x.example/cb?m=1")

    assert sid == "SM" + "0" * 31 + "1"
    assert twilio.sent == [
        {
            "To": PHONE,
            "From": "+15005550006",
            "Body": "积分即将过期",
            "StatusCallback": "https://x.example/cb?m=1",
        }
    ]


def test_twilio_refusing_the_credentials_or_the_number_is_for_good_a_5xx_is_not(settings, twilio):
    port = twilio.server.port
    settings.SMS_URL = f"twilio+http://{SID}:wrong@127.0.0.1:{port}?from=%2B15005550006"
    with pytest.raises(SmsRefused, match="20003"):
        sms_send(to=PHONE, body="x")

    settings.SMS_URL = f"twilio+http://{SID}:{TOKEN}@127.0.0.1:{port}?from=%2B15005550006"
    twilio.fail = [503, 429]
    with pytest.raises(SmsUnavailable, match="503"):
        sms_send(to=PHONE, body="x")
    with pytest.raises(SmsUnavailable, match="429"):
        sms_send(to=PHONE, body="x")
    assert twilio.sent == []


def test_twilio_down_is_retried_by_the_outbox_and_sent_once_it_answers(texted, twilio, _noon):
    twilio.fail = [503]
    message = queue(texted, channel=Message.Channel.SMS)

    outbox_send_due()
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("queued", 1)
    assert "503" in message.reason
    assert twilio.sent == []

    _noon.shift(dt.timedelta(minutes=2))
    outbox_send_due()
    message.refresh_from_db()
    assert message.state == "sent"
    assert len(twilio.sent) == 1
    assert twilio.sent[0]["To"] == PHONE
    assert twilio.sent[0]["Body"].startswith(
        "【Loyalty】1,200 of your points expire after 2026-12-20."
    )
    assert twilio.sent[0]["StatusCallback"].endswith(f"/sms/twilio/status/?m={message.pk}")


def test_a_text_in_the_members_language(texted, twilio):
    Member.objects.filter(pk=texted.pk).update(language="zh-hans")
    queue(texted, channel=Message.Channel.SMS)
    outbox_send_due()
    assert "积分" in twilio.sent[0]["Body"]


def test_a_member_without_a_verified_phone_gets_no_text(twilio):
    unverified = MemberFactory(phone=PHONE)
    message = queue(unverified, channel=Message.Channel.SMS)
    outbox_send_due()
    message.refresh_from_db()
    assert (message.state, message.reason) == ("suppressed", "no_phone")
    assert twilio.sent == []


def test_marketing_texts_need_sms_consent_carry_the_unsubscribe_link_and_are_capped(
    texted, twilio, settings
):
    settings.MARKETING_CAP = 1
    refused = queue(texted, kind=Message.Kind.MARKETING, channel=Message.Channel.SMS)
    outbox_send_due()
    refused.refresh_from_db()
    assert (refused.state, refused.reason) == ("suppressed", "no_consent")

    Member.objects.filter(pk=texted.pk).update(marketing_sms_at=timezone.now())
    sent = queue(texted, kind=Message.Kind.MARKETING, channel=Message.Channel.SMS)
    capped = queue(texted, kind=Message.Kind.MARKETING, channel=Message.Channel.SMS)
    queue(texted, kind=Message.Kind.MARKETING, channel=Message.Channel.EMAIL)
    email = Message.objects.get(channel=Message.Channel.EMAIL)
    Member.objects.filter(pk=texted.pk).update(marketing_email_at=timezone.now())
    outbox_send_due()

    states = {m.pk: (m.state, m.reason) for m in Message.objects.all()}
    assert states[sent.pk] == ("sent", "")
    assert states[capped.pk] == ("suppressed", "marketing_cap")
    assert states[email.pk] == ("sent", "")  # the cap is per channel
    # The e-mail's own SMS copy (the template goes by SMS too) found the cap taken.
    copy = Message.objects.get(key="", channel="sms", pk__gt=email.pk)
    assert states[copy.pk] == ("suppressed", "marketing_cap")
    assert "Unsubscribe: http://127.0.0.1:8000/unsubscribe/" in twilio.sent[0]["Body"]


def _status_post(client, settings, message_id, form, signature=None):
    url = f"{settings.SITE_URL}/sms/twilio/status/?m={message_id}"
    signature = signature or twilio_signature(auth_token=TOKEN, url=url, params=form)
    return client.post(
        f"/sms/twilio/status/?m={message_id}",
        urllib.parse.urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def test_a_signed_delivery_report_of_failure_marks_the_text_failed(
    client, settings, texted, twilio
):
    message = queue(texted, channel=Message.Channel.SMS)
    outbox_send_due()
    report = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}

    forged = _status_post(client, settings, message.pk, report, signature="bm90IGl0")
    assert forged.status_code == 403
    message.refresh_from_db()
    assert message.state == "sent"

    assert _status_post(client, settings, message.pk, report).status_code == 204
    message.refresh_from_db()
    assert (message.state, message.reason) == ("failed", "sms_undelivered: 30003")

    delivered = queue(texted, channel=Message.Channel.SMS)
    outbox_send_due()
    ok = {"MessageSid": "SM2", "MessageStatus": "delivered"}
    assert _status_post(client, settings, delivered.pk, ok).status_code == 204
    delivered.refresh_from_db()
    assert delivered.state == "sent"


def test_twilios_documented_signature_example():
    # The vector Twilio's own libraries are tested with (twilio-node).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert twilio_signature(auth_token="12345", url=url, params=params) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
