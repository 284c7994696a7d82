"""The partner gateways of other counties: who this gateway is, and per partner its URL and shared key.

A TOML file named by `[referral] partners` in the settings file:

    self = "430521"                      # this gateway's id, as partners know it
    [partners.430100]
    url = "http://10.1.2.3:8080"         # where its records are fetched from (`hisgw referral fetch`)
    key = "base64 of 32 random bytes"    # shared with that partner only; `hisgw referral key` makes one
    # or key_file = "430100.key"         # the same, in a file of its own (mode 600)
"""

from __future__ import annotations

import base64
import binascii
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Partner:
    gateway_id: str
    url: str
    key: bytes


@dataclass(frozen=True, slots=True)
class Partners:
    self_id: str
    partners: dict[str, Partner]

    def get(self, gateway_id: str) -> Partner | None:
        return self.partners.get(gateway_id)


def load_partners(path: Path) -> Partners:
    with path.open("rb") as handle:
        doc = tomllib.load(handle)
    self_id = doc.get("self")
    if not isinstance(self_id, str) or not self_id:
        raise ValueError(f"{path}: `self` (this gateway's id) is required")
    found: dict[str, Partner] = {}
    for gateway_id, entry in dict(doc.get("partners", {})).items():
        if not isinstance(entry, dict) or set(entry) - {"url", "key", "key_file"}:
            raise ValueError(f"{path}: [partners.{gateway_id}] takes url, key or key_file")
        text = entry.get("key")
        if text is None and "key_file" in entry:
            text = (path.parent / str(entry["key_file"])).read_text(encoding="ascii").strip()
        try:
            key = base64.b64decode(str(text or ""), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{path}: [partners.{gateway_id}] key is not base64") from None
        if len(key) < 32:
            raise ValueError(f"{path}: [partners.{gateway_id}] key must be at least 32 bytes")
        found[str(gateway_id)] = Partner(str(gateway_id), str(entry.get("url", "")).rstrip("/"), key)
    return Partners(self_id, found)
