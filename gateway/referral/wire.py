"""How two gateways call each other over HTTP: every request is signed with the key they share.

GET /referral/v1/records/{trt_dcla_detl_sn} answers the record issued to the asking partner, signed;
POST /referral/v1/records with a record as the body (signed by its issuer, within the record) imports it, as
`hisgw referral import FILE` does, and only from the partner that issued it. Both carry the headers
    X-Hisgw-Partner: the calling gateway's id     X-Hisgw-Time: unix seconds (within WINDOW of the server's clock)
    X-Hisgw-Nonce: 16–64 letters or digits, new for every request (the server refuses one it has seen)
    X-Hisgw-Signature: hex HMAC-SHA256(key, METHOD \\n path?query \\n time \\n nonce \\n hex SHA-256 of the body)
so a request cannot be replayed within its window, nor its query string or body changed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import urllib.error
import urllib.request

from gateway.errors import ReferralRecordRejected, Unauthenticated
from gateway.referral.partners import Partner

PATH = "/referral/v1/records/"
WINDOW = 300  # s
_NONCE = re.compile(r"^[0-9A-Za-z]{16,64}$")


def request_signature(key: bytes, method: str, target: str, moment: str, nonce: str, body: bytes) -> str:
    """`target` is the path with its query string, exactly as sent (the raw request target)."""
    message = "\n".join((method, target, moment, nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signed_headers(partner: Partner, self_id: str, method: str, target: str, body: bytes,
                   now: float) -> dict[str, str]:
    moment, nonce = str(int(now)), secrets.token_hex(16)
    return {"X-Hisgw-Partner": self_id, "X-Hisgw-Time": moment, "X-Hisgw-Nonce": nonce,
            "X-Hisgw-Signature": request_signature(partner.key, method, target, moment, nonce, body)}


def check_request(partner: Partner | None, method: str, target: str, moment: str, nonce: str, signature: str,
                  body: bytes, now: float) -> None:
    """The signature and the time window; the nonce's freshness is the store's (referral_nonce_add)."""
    if partner is None or not moment.isascii() or not moment.isdigit() or abs(now - int(moment)) > WINDOW:
        raise Unauthenticated("合作网关请求未签名、签名过期或签发方未配置")
    if not _NONCE.match(nonce):
        raise Unauthenticated("合作网关请求缺少 X-Hisgw-Nonce（16–64 位字母或数字）")
    expected = request_signature(partner.key, method, target, moment, nonce, body)
    if not hmac.compare_digest(expected, signature):
        raise Unauthenticated("合作网关请求签名不符")


def fetch(partner: Partner, self_id: str, sn: str, now: float, timeout: float = 10.0) -> bytes:
    """The record of referral `sn` from `partner`, as bytes (verified by the importer, not here)."""
    target = PATH + sn
    request = urllib.request.Request(partner.url + target,
                                     headers=signed_headers(partner, self_id, "GET", target, b"", now))
    return _exchange(partner, request, timeout)


def push(partner: Partner, self_id: str, data: bytes, now: float, timeout: float = 10.0) -> bytes:
    """Send one of this gateway's records to `partner`; its answer (JSON: the outcome)."""
    target = PATH.rstrip("/")
    headers = {**signed_headers(partner, self_id, "POST", target, data, now), "Content-Type": "application/json"}
    request = urllib.request.Request(partner.url + target, data=data, headers=headers, method="POST")
    return _exchange(partner, request, timeout)


def _exchange(partner: Partner, request: urllib.request.Request, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return bytes(answer.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace")
        raise ReferralRecordRejected(f"{partner.gateway_id} 答复 {exc.code}: {body}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReferralRecordRejected(f"{partner.gateway_id} 不可达: {exc.__class__.__name__}") from None
