"""A HIS-side client of the national interface (HTTP/JSON), as a hospital's system would call it."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
import simplejson

from gateway.auth.credentials import HospitalCredential
from gateway.auth.signature import signed_headers

CALL_PATH = "/fsi/api/rsfComIfsService/callService"

# One serial for the whole process: several clients of one hospital never mint the same msgid.
_SERIAL = itertools.count(1)


class NhsaClient:
    """Builds the national envelope (msgid = fixmedins_code + yyyyMMddHHmmss + serial) around each input."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, fixmedins_code: str,
                 opter: str = "001", mdtrtarea_admvs: str = "430521",
                 credential: HospitalCredential | None = None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.fixmedins_code = fixmedins_code
        self.opter = opter
        self.mdtrtarea_admvs = mdtrtarea_admvs
        self.sign_no = ""
        self.credential = credential  # when set, every request carries the x-tif-* signature headers

    def new_msgid(self, at: datetime | None = None) -> str:
        return f"{self.fixmedins_code}{(at or datetime.now()):%Y%m%d%H%M%S}{next(_SERIAL) % 10000:04d}"

    def envelope(self, infno: str, payload: dict[str, Any], *, msgid: str | None = None,
                 inf_time: datetime | None = None) -> dict[str, Any]:
        at = inf_time or datetime.now()
        return {
            "infno": infno, "msgid": msgid or self.new_msgid(at), "mdtrtarea_admvs": self.mdtrtarea_admvs,
            "insuplc_admdvs": "", "recer_sys_code": "HISGW", "dev_no": "", "dev_safe_info": "", "cainfo": "",
            "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": self.opter, "opter_name": "收费员",
            "inf_time": at.strftime("%Y-%m-%d %H:%M:%S"), "fixmedins_code": self.fixmedins_code,
            "fixmedins_name": "", "sign_no": self.sign_no, "input": payload,
        }

    async def post_raw(self, body: bytes) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if self.credential is not None:
            headers.update(signed_headers(self.credential, body))
        async with self.session.post(f"{self.base_url}{CALL_PATH}", data=body, headers=headers) as response:
            text = await response.read()
            return response.status, json.loads(text, parse_float=Decimal)

    async def call(self, infno: str, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The whole answer envelope, amounts as Decimal."""
        document = self.envelope(infno, payload, **kwargs)
        body = simplejson.dumps(document, use_decimal=True, ensure_ascii=False, default=str).encode("utf-8")
        _status, answer = await self.post_raw(body)
        return answer

    async def sign_in(self) -> str:
        answer = await self.call("9001", {"signIn": {"opter_no": self.opter, "mac": "", "ip": "127.0.0.1"}})
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        return self.sign_no
