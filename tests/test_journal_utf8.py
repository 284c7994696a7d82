"""The journal's HTTP API answers UTF-8 text, and a HIS whose JSON encoder escapes non-ASCII (Python's json.dumps
by default: "\\u5468\\u5efa\\u56fd") gets its names masked in the journal like any other, written as text."""

from __future__ import annotations

import json

from tests.support import PERSONS, Served


async def test_escaped_names_are_masked_and_the_api_answers_utf8(served: Served) -> None:
    his = served.his()
    person = PERSONS["poor"]
    name = "测试poor"
    document = his.envelope("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno,
                                              "psn_name": name}})
    body = json.dumps(document).encode("ascii")  # ensure_ascii: the name travels as \u6d4b\u8bd5poor
    assert name.encode("utf-8") not in body
    status, answer = await his.post_raw(body)
    assert (status, answer["infcode"]) == (200, 0)
    async with served.session.get(f"{served.url}/journal/v1/exchanges",
                                  params={"msgid": document["msgid"], "raw": "1"}) as response:
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        raw = await response.read()
    (row,) = json.loads(raw)["exchanges"]
    escaped = json.dumps(name)[1:-1]  # \u6d4b\u8bd5poor
    for text in (raw.decode("utf-8"), row["request"], row["call"], row["answer"]):
        assert escaped not in text and name not in text
    assert '"psn_name": "测*****"' in row["request"]  # mask_name: the first character, then one * each
    assert "建档立卡贫困人口".encode() in raw  # the API's own text is UTF-8, not \u escapes
