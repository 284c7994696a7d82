"""How two gateways ask each other for a record over HTTP: the request is signed with the key they share.

GET /referral/v1/records/{trt_dcla_detl_sn} with headers
    X-Hisgw-Partner: the asking gateway's id     X-Hisgw-Time: unix seconds (within WINDOW of the server's clock)
    X-Hisgw-Signature: hex HMAC-SHA256(key, "GET\\n" + path + "\\n" + time)
answers the record issued to that partner, signed. POST /referral/v1/records with a record as the body (signed
by its issuer, within the record) imports it, as `hisgw referral import FILE` does.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

from gateway.errors import ReferralRecordRejected, Unauthenticated
from gateway.referral.partners import Partner

PATH = "/referral/v1/records/"
WINDOW = 300  # s


def request_signature(key: bytes, method: str, path: str, moment: str) -> str:
    return hmac.new(key, f"{method}\n{path}\n{moment}".encode(), hashlib.sha256).hexdigest()


def check_request(partner: Partner | None, method: str, path: str, moment: str, signature: str, now: float) -> None:
    if partner is None or not moment.isascii() or not moment.isdigit() or abs(now - int(moment)) > WINDOW:
        raise Unauthenticated("合作网关请求未签名、签名过期或签发方未配置")
    if not hmac.compare_digest(request_signature(partner.key, method, path, moment), signature):
        raise Unauthenticated("合作网关请求签名不符")


def fetch(partner: Partner, self_id: str, sn: str, now: float, timeout: float = 10.0) -> bytes:
    """The record of referral `sn` from `partner`, as bytes (verified by the importer, not here)."""
    path = PATH + sn
    moment = str(int(now))
    request = urllib.request.Request(partner.url + path, headers={
        "X-Hisgw-Partner": self_id, "X-Hisgw-Time": moment,
        "X-Hisgw-Signature": request_signature(partner.key, "GET", path, moment)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return bytes(answer.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace")
        raise ReferralRecordRejected(f"{partner.gateway_id} 答复 {exc.code}: {body}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReferralRecordRejected(f"{partner.gateway_id} 不可达: {exc.__class__.__name__}") from None
