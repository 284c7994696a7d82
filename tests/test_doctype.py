""""Any DOCTYPE refused" (README), whatever the encoding: a SOAP envelope, and the XML message it carries, in
UTF-16 (either byte order, with or without a BOM), UTF-32, UTF-8 with a BOM. The byte check alone let every
one of these through; the parsed document's own record of a DTD (lxml's docinfo) does not."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.errors import MalformedMessage
from gateway.mapping import safexml
from tests.support import Served, snapshot

DOCTYPE = '<!DOCTYPE e [<!ENTITY x "entity text">]>'
ENVELOPE = ('<?xml version="1.0" encoding="{encoding}"?>{doctype}<soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:d="http://www.dhcc.com.cn">'
            "<soapenv:Body><d:HIPMessageServer><d:action>SignIn</d:action><d:message>{message}</d:message>"
            "</d:HIPMessageServer></soapenv:Body></soapenv:Envelope>")
MESSAGE = "&lt;Request&gt;&lt;Header&gt;&lt;MessageID&gt;D1&lt;/MessageID&gt;&lt;/Header&gt;&lt;Body/&gt;" \
          "&lt;/Request&gt;"
# (Python codec, the name the declaration gives, a BOM written by hand or none)
ENCODINGS = [("utf-16-le", "UTF-16", b"\xff\xfe"), ("utf-16-be", "UTF-16", b"\xfe\xff"),
             ("utf-16-le", "UTF-16LE", b""), ("utf-16-be", "UTF-16BE", b""),
             ("utf-32-le", "UTF-32", b"\xff\xfe\x00\x00"),
             ("utf-32-be", "UTF-32", b"\x00\x00\xfe\xff"), ("utf-8", "UTF-8", b"\xef\xbb\xbf")]


def envelope(codec: str, declared: str, bom: bytes, doctype: str) -> bytes:
    return bom + ENVELOPE.format(encoding=declared, doctype=doctype, message=MESSAGE).encode(codec)


async def post(served: Served, body: bytes, codec: str) -> tuple[int, etree._Element]:
    headers = {"Content-Type": f"text/xml; charset={codec.split('-le')[0].split('-be')[0]}",
               "SOAPAction": "HIPMessageServer"}
    async with served.session.post(f"{served.url}/soap/dhc", data=body, headers=headers) as response:
        return response.status, etree.fromstring(await response.read())


@pytest.mark.parametrize(("codec", "declared", "bom"), ENCODINGS)
async def test_a_soap_envelope_with_a_doctype_is_refused_in_any_encoding(served: Served, codec: str,
                                                                        declared: str, bom: bytes) -> None:
    status, answer = await post(served, envelope(codec, declared, bom, ""), codec)  # the same without a DTD: read
    assert status == 200 and answer.find(".//{*}HIPMessageServerResult") is not None, etree.tostring(answer)
    before = await snapshot(served)
    status, answer = await post(served, envelope(codec, declared, bom, DOCTYPE), codec)
    assert status == 500
    assert (answer.findtext(".//faultcode") or "").endswith("Client.Forbidden"), etree.tostring(answer)
    assert await snapshot(served) == before


INNER = '<Request><Header><MessageID>D2</MessageID></Header><Body/></Request>'


@pytest.mark.parametrize(("codec", "declared", "bom"), ENCODINGS)
def test_an_xml_message_with_a_doctype_is_refused_in_any_encoding(codec: str, declared: str, bom: bytes) -> None:
    for head in (f'<?xml version="1.0" encoding="{declared}"?>', ""):
        plain = bom + (head + INNER).encode(codec)
        if not bom and not head:
            continue  # UTF-16 without a BOM or a declaration is not XML anyone can read
        assert safexml.parse(plain, "utf-8").tag == "Request"
        with pytest.raises(MalformedMessage, match="DTD"):
            safexml.parse(bom + (head + DOCTYPE + INNER).encode(codec), "utf-8")
        # as a SOAP string argument (text): the declaration described bytes that no longer exist
        with pytest.raises(MalformedMessage, match="DTD"):
            safexml.parse(head + DOCTYPE + INNER, "utf-8")
