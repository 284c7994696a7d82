"""Helpers for 2601 冲正 and the 5999 msgid query, as a HIS sends them over the national interface."""

from __future__ import annotations

from typing import Any

from simulators.nhsa_client import NhsaClient


async def correct(his: NhsaClient, omsgid: str, oinfno: str, **kwargs: Any) -> dict[str, Any]:
    data = {"omsgid": omsgid, "oinfno": oinfno}
    if "psn_no" in kwargs:
        data["psn_no"] = kwargs.pop("psn_no")
    return await his.call("2601", {"data": data}, **kwargs)


async def status(his: NhsaClient, omsgid: str, **kwargs: Any) -> dict[str, Any]:
    """The 5999 msgrslt of `omsgid` (the whole answer envelope when it failed)."""
    answer = await his.call("5999", {"data": {"omsgid": omsgid}}, **kwargs)
    if answer["infcode"] != 0:
        return answer
    result: dict[str, Any] = answer["output"]["msgrslt"]
    return result
