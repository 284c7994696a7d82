"""The credentials file (TOML): each hospital's paasid and secret, each county operator's token and role.

    [hospitals.H43052100001]
    paasid = "h43052100001"      # x-tif-paasid; defaults to the fixmedins_code
    secret = "…"                 # the paasToken the hospital signs with
    scheme = "tif"               # tif: the national gateway's sha256(ts+secret+nonce+ts); sm3: HMAC-SM3 over the body

    [county.console]
    token = "…"                  # Authorization: Bearer <token>
    role = "admin"               # admin, operator (经办), reviewer (审核), second_reviewer (复核), finance (财务),
                                 # reader: who may do what is gateway/county/roles.py ACTIONS

Refused at load with the key that is wrong, never half-read.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.county.roles import ROLES as COUNTY_ROLES

SCHEMES = ("tif", "sm3")
ROLES = tuple(COUNTY_ROLES)  # who may do what: gateway/county/roles.py ACTIONS
MIN_SECRET = 16  # characters: a guessable secret is refused at load, not discovered later


class CredentialsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class HospitalCredential:
    fixmedins_code: str
    paasid: str
    secret: str
    scheme: str


@dataclass(frozen=True, slots=True)
class CountyCredential:
    name: str
    token: str
    role: str


@dataclass(frozen=True, slots=True)
class Credentials:
    hospitals: dict[str, HospitalCredential]  # by paasid
    county: dict[str, CountyCredential]  # by token


def load_credentials(path: Path) -> Credentials:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CredentialsError(f"{path}: {exc}") from exc
    unknown = set(document) - {"hospitals", "county"}
    if unknown:
        raise CredentialsError(f"{path}: unknown section(s) {sorted(unknown)}; known: hospitals, county")
    hospitals: dict[str, HospitalCredential] = {}
    for code, entry in _table(document, "hospitals", path).items():
        where = f"{path}: hospitals.{code}"
        _keys(entry, {"paasid", "secret", "scheme"}, {"secret"}, where)
        credential = HospitalCredential(code, str(entry.get("paasid", code)), _secret(entry["secret"], where),
                                        str(entry.get("scheme", "tif")))
        if credential.scheme not in SCHEMES:
            raise CredentialsError(f"{where}.scheme: {credential.scheme!r}, one of {', '.join(SCHEMES)}")
        if credential.scheme == "sm3" and "sm3" not in hashlib.algorithms_available:
            raise CredentialsError(f"{where}.scheme: this Python's OpenSSL has no SM3")
        if credential.paasid in hospitals:
            raise CredentialsError(f"{where}.paasid: {credential.paasid!r} is also hospital "
                                   f"{hospitals[credential.paasid].fixmedins_code}")
        hospitals[credential.paasid] = credential
    county: dict[str, CountyCredential] = {}
    for name, entry in _table(document, "county", path).items():
        where = f"{path}: county.{name}"
        _keys(entry, {"token", "role"}, {"token", "role"}, where)
        operator = CountyCredential(name, _secret(entry["token"], where), str(entry["role"]))
        if operator.role not in ROLES:
            raise CredentialsError(f"{where}.role: {operator.role!r}, one of {', '.join(ROLES)}")
        if operator.token in county:
            raise CredentialsError(f"{where}.token: the same token as county.{county[operator.token].name}")
        county[operator.token] = operator
    return Credentials(hospitals, county)


def _table(document: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise CredentialsError(f"{path}: [{name}.<name>] tables expected")
    return table


def _keys(entry: dict[str, Any], allowed: set[str], required: set[str], where: str) -> None:
    if set(entry) - allowed:
        raise CredentialsError(f"{where}: unknown key(s) {sorted(set(entry) - allowed)}; known: {sorted(allowed)}")
    if required - set(entry):
        raise CredentialsError(f"{where}: needs {sorted(required - set(entry))}")


def _secret(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) < MIN_SECRET:
        raise CredentialsError(f"{where}: a secret of at least {MIN_SECRET} characters")
    return value
