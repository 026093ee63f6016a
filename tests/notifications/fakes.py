"""Local stand-ins for the providers the outbox talks to: an HTTP server in a
thread that checks each request as the provider would and answers as it does."""

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeServer:
    """`handle(method, path, headers, body) -> (status, body dict)`; every
    request is kept in `requests` as (path, headers, body)."""

    def __init__(self, handle):
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.path, dict(self.headers), body))
                status, answer = handle(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class FakeTwilio:
    """Twilio's Messages resource: Basic auth with the account SID and auth
    token, the account in the path, a form with To, Body and From (or
    MessagingServiceSid). `fail` answers in order before the successes."""

    def __init__(self, account_sid, auth_token, fail=()):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.fail = list(fail)
        self.sent = []

    def __call__(self, path, headers, body):
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if headers.get("Authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found"}
        if headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return 400, {"code": 21600, "message": "Bad content type"}
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if not form.get("To", "").startswith("+") or not form.get("Body"):
            return 400, {"code": 21211, "message": "The 'To' number is not a valid phone number."}
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, {"code": 21603, "message": "A 'From' phone number is required."}
        if self.fail:
            status = self.fail.pop(0)
            return status, {"code": 20500 if status >= 500 else 21211, "message": "failed"}
        self.sent.append(form)
        return 201, {"sid": f"SM{len(self.sent):032d}", "status": "queued"}


class FakePushService:
    """A push service (RFC 8030) that takes a message only as a real one does:
    VAPID (RFC 8292) `Authorization: vapid t=<JWT>, k=<public key>`, the JWT
    signed ES256 with that key, for this service's origin, not expired and not
    more than 24 hours ahead, with a `sub` contact; a TTL; the body encrypted
    aes128gcm (RFC 8291) for the subscription, which it decrypts with the
    browser's key to keep what was pushed. `gone` answers 410."""

    def __init__(self, vapid_public_key, gone=False, fail=()):
        self.vapid_public_key = vapid_public_key
        self.gone = gone
        self.fail = list(fail)
        self.received = []
        self.browser_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = b"0123456789abcdef"
        self.origin = ""

    def subscription_keys(self):
        public = self.browser_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(public), b64url(self.auth_secret)

    def check_vapid(self, header):
        scheme, _, params = header.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert scheme == "vapid", header
        assert fields["k"] == self.vapid_public_key, "the key is not the application's"
        head, payload, signature = fields["t"].split(".")
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(fields["k"])
        )
        raw = b64url_decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        assert json.loads(b64url_decode(head)) == {"typ": "JWT", "alg": "ES256"}
        claims = json.loads(b64url_decode(payload))
        assert claims["aud"] == self.origin, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https:")), claims

    def __call__(self, path, headers, body):
        try:
            self.check_vapid(headers.get("Authorization", ""))
        except (AssertionError, InvalidSignature, KeyError, ValueError):
            return 403, {"error": "bad VAPID"}
        if headers.get("Content-Encoding") != "aes128gcm" or "TTL" not in headers:
            return 400, {"error": "bad headers"}
        if self.gone:
            return 410, {"error": "gone"}
        if self.fail:
            return self.fail.pop(0), {"error": "try later"}
        plain = http_ece.decrypt(body, private_key=self.browser_key, auth_secret=self.auth_secret)
        self.received.append(json.loads(plain))
        return 201, {}
