"""Request signatures over HTTP, checked before a message is read.

tif (the national gateway's scheme): headers x-tif-paasid, x-tif-timestamp (unix seconds), x-tif-nonce and
x-tif-signature = hex(sha256(timestamp + secret + nonce + timestamp)). It does not cover the body, which is
why the hospital it names must also be the message's fixmedins_code (checked on the one road).
sm3: the same headers, x-tif-signature = hex(HMAC-SM3(secret, timestamp + nonce + body)); it does.

Both: the timestamp must be within WINDOW seconds of the gateway's clock, and a nonce is accepted once within
the window, so a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.auth.credentials import Credentials, HospitalCredential
from gateway.errors import Unauthenticated

WINDOW = 300  # seconds either side of the gateway's clock
MAX_NONCES = 1_000_000  # bounded memory under a flood of distinct nonces; the oldest go first
HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")


def tif_signature(secret: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


def sm3_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}{nonce}".encode() + body, "sm3").hexdigest()


def signed_headers(credential: HospitalCredential, body: bytes, *, now: float | None = None,
                   nonce: str | None = None, scheme: str | None = None) -> dict[str, str]:
    """What a HIS adds to a request (used by the simulator and the tests, and documented for vendors)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or hashlib.sha256(f"{time.time_ns()}{id(body)}".encode()).hexdigest()[:16]
    signature = (sm3_signature(credential.secret, timestamp, nonce, body) if (scheme or credential.scheme) == "sm3"
                 else tif_signature(credential.secret, timestamp, nonce))
    return {"x-tif-paasid": credential.paasid, "x-tif-timestamp": timestamp, "x-tif-nonce": nonce,
            "x-tif-signature": signature}


@dataclass
class NonceStore:
    """Nonces seen within the window, per paasid. In memory: after a restart the window still bounds replays."""

    seen: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict)

    def first_use(self, paasid: str, nonce: str, now: float) -> bool:
        while self.seen and (next(iter(self.seen.values())) < now - 2 * WINDOW or len(self.seen) > MAX_NONCES):
            self.seen.popitem(last=False)
        key = (paasid, nonce)
        if key in self.seen:
            return False
        self.seen[key] = now
        return True


@dataclass
class Authenticator:
    credentials: Credentials
    nonces: NonceStore = field(default_factory=NonceStore)
    clock: Callable[[], float] = time.time

    def hospital(self, headers: Mapping[str, str], body: bytes, scheme: str | None = None) -> str:
        """The fixmedins_code the request is signed for, or Unauthenticated saying what is wrong. `scheme`
        overrides the hospital's own where a transport can only sign one way (the DLL library: tif)."""
        values = {name: headers.get(name, "") for name in HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise Unauthenticated(f"缺少签名请求头 {', '.join(missing)}")
        credential = self.credentials.hospitals.get(values["x-tif-paasid"])
        if credential is None:
            raise Unauthenticated(f"未知的 x-tif-paasid {values['x-tif-paasid'][:40]!r}")
        timestamp, nonce = values["x-tif-timestamp"], values["x-tif-nonce"]
        now = self.clock()
        well_formed = timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12  # int() of "²" fails
        if not well_formed or abs(int(timestamp) - now) > WINDOW:
            raise Unauthenticated(f"x-tif-timestamp 不在网关时间前后 {WINDOW} 秒内")
        expected = (sm3_signature(credential.secret, timestamp, nonce, body) if (scheme or credential.scheme) == "sm3"
                    else tif_signature(credential.secret, timestamp, nonce))
        if not hmac.compare_digest(expected.encode(), values["x-tif-signature"].lower().encode("utf-8", "replace")):
            raise Unauthenticated("x-tif-signature 不正确")
        if not self.nonces.first_use(credential.paasid, nonce, now):
            raise Unauthenticated("x-tif-nonce 已使用过：请求被重放")
        return credential.fixmedins_code

    def hospital_from_parts(self, parts: Sequence[str], body: bytes, missing: str) -> str:
        """For transports without headers (a DLL frame's name part, HL7 MSH-8): paasid, timestamp, nonce and
        signature in that order, signed the national way (tif: the C library and HL7 senders sign no body)."""
        if len(parts) != len(HEADERS):
            raise Unauthenticated(missing)
        return self.hospital(dict(zip(HEADERS, parts, strict=True)), body, scheme="tif")
