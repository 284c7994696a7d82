"""Test reference data and journey helpers, loaded through the county API like a real county would."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from gateway.refdata.idcard import check_character
from gateway.runtime import Gateway
from simulators.nhsa_client import NhsaClient

COUNTY = "430521"
OTHER_AREA = "430100"


def certno(birth: str, seq: str, area: str = COUNTY) -> str:
    """A resident ID number with a correct check character (GB 11643), made up for tests."""
    body = f"{area}{birth}{seq}"
    return body + check_character(body)


HOSPITALS = [
    {"fixmedins_code": "T1", "fixmedins_name": "测试乡镇卫生院", "hosp_lv": 1, "admdvs": COUNTY},
    {"fixmedins_code": "T2", "fixmedins_name": "测试县人民医院", "hosp_lv": 2, "admdvs": COUNTY},
    {"fixmedins_code": "T3", "fixmedins_name": "测试县中医院", "hosp_lv": 3, "admdvs": COUNTY},
    {"fixmedins_code": "TX", "fixmedins_name": "测试市中心医院", "hosp_lv": 3, "admdvs": OTHER_AREA},
]
CATALOGUE = [
    {"med_list_codg": "A", "med_list_name": "甲类测试项目", "med_chrgitm_type": "09", "chrgitm_lv": "01",
     "selfpay_prop": "0"},
    {"med_list_codg": "B10", "med_list_name": "乙类测试项目10%", "med_chrgitm_type": "09", "chrgitm_lv": "02",
     "selfpay_prop": "0.10"},
    {"med_list_codg": "B20", "med_list_name": "乙类测试项目20%", "med_chrgitm_type": "03", "chrgitm_lv": "02",
     "selfpay_prop": "0.20"},
    {"med_list_codg": "C", "med_list_name": "丙类测试项目", "med_chrgitm_type": "08", "chrgitm_lv": "03",
     "selfpay_prop": "0"},
]


@dataclass(frozen=True)
class TestPerson:
    psn_no: str
    certno: str
    attributes: str
    insutype: str = "390"
    area: str = COUNTY
    uninsured_reason: str = ""


PERSONS = {
    "poor": TestPerson("TP0001", certno("19600101", "011"), "0001"),
    "urban_dibao": TestPerson("TP0002", certno("19700202", "022"), "0002"),
    "rural_dibao": TestPerson("TP0003", certno("19710303", "031"), "0003"),
    "tekun": TestPerson("TP0004", certno("19400404", "042"), "0004"),
    "backstop": TestPerson("TP0005", certno("19500505", "051"), "0005"),
    "disabled": TestPerson("TP0006", certno("19800606", "062"), "0006"),
    "poor_tekun": TestPerson("TP0007", certno("19450707", "071"), "0001,0004"),
    "ordinary": TestPerson("TP0008", certno("19900808", "082"), ""),
    "ordinary2": TestPerson("TP0009", certno("19910909", "091"), ""),
    "poor_elsewhere": TestPerson("TP0010", certno("19611010", "012", OTHER_AREA), "0001", area=OTHER_AREA),
    "employee": TestPerson("TP0011", certno("19851111", "111"), "", insutype="310"),
    "uninsured": TestPerson("TP0012", certno("19921212", "122"), "", uninsured_reason="0005"),
    "poor2": TestPerson("TP0013", certno("19620113", "131"), "0001"),
    "poor3": TestPerson("TP0014", certno("19630114", "141"), "0001"),
}


def person_rows() -> list[dict[str, Any]]:
    rows = []
    for key, p in PERSONS.items():
        row = {"psn_no": p.psn_no, "certno": p.certno, "psn_name": f"测试{key}", "insutype": p.insutype,
               "insuplc_admdvs": p.area, "psn_idet_type": p.attributes}
        if p.uninsured_reason:
            row["uninsured_reason"] = p.uninsured_reason
        rows.append(row)
    return rows


async def load_reference_data(session: aiohttp.ClientSession, base_url: str) -> None:
    for kind, rows in (("hospitals", HOSPITALS), ("catalogue", CATALOGUE), ("persons", person_rows())):
        async with session.post(f"{base_url}/county/v1/{kind}", json={"data": rows}) as response:
            body = await response.json()
            assert response.status == 200, body
            assert body["imported"] == len(rows)


@dataclass
class Served:
    url: str
    session: aiohttp.ClientSession
    gateway: Gateway

    def his(self, fixmedins_code: str = "T2") -> NhsaClient:
        return NhsaClient(self.session, self.url, fixmedins_code)


def ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["infcode"] == 0, answer["err_msg"]
    output: dict[str, Any] = answer["output"]
    return output


def failed(answer: dict[str, Any], code: str) -> str:
    assert answer["infcode"] == -1, answer
    message: str = answer["err_msg"]
    assert message.startswith(f"[{code}]"), message
    assert answer["output"] is None
    return message


class Journey:
    """One stay, driven through the national interface with the usual HIS fields."""

    def __init__(self, his: NhsaClient, person: TestPerson) -> None:
        self.his = his
        self.person = person
        self.mdtrt_id = ""
        self._sn = 0

    async def admit(self, begntime: str = "2026-03-01 08:00:00", *, msgid: str | None = None,
                    **extra: Any) -> dict[str, Any]:
        answer = await self.his.call("2401", {
            "mdtrtinfo": {"psn_no": self.person.psn_no, "insutype": self.person.insutype, "begntime": begntime,
                          "mdtrt_cert_type": "02", "mdtrt_cert_no": self.person.certno, "med_type": "21",
                          "ipt_no": extra.pop("ipt_no", ""), "adm_dept_codg": "A03", "adm_dept_name": "内科",
                          "dise_codg": "J18.900", "dise_name": "肺炎", **extra},
            "diseinfo": [{"psn_no": self.person.psn_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": "1",
                          "diag_code": "J18.900", "diag_name": "肺炎", "diag_time": begntime}],
        }, msgid=msgid)
        if answer["infcode"] == 0:
            self.mdtrt_id = answer["output"]["result"]["mdtrt_id"]
        return answer

    def line(self, code: str, amount: str, *, cnt: str = "1", sn: str | None = None,
             init_sn: str = "") -> dict[str, Any]:
        self._sn += 1
        count = Decimal(cnt)
        return {
            "feedetl_sn": sn or f"{self.mdtrt_id}-{self._sn:04d}", "init_feedetl_sn": init_sn,
            "mdtrt_id": self.mdtrt_id, "drord_no": "", "psn_no": self.person.psn_no, "med_type": "21",
            "fee_ocur_time": "2026-03-02 10:00:00", "med_list_codg": code, "medins_list_codg": f"H-{code}",
            "det_item_fee_sumamt": Decimal(amount), "cnt": count, "pric": abs(Decimal(amount) / count),
            "bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "医生",
        }

    async def upload(self, *lines: dict[str, Any]) -> dict[str, Any]:
        return await self.his.call("2301", {"feedetail": list(lines)})

    def settle_input(self, medfee: str | Decimal | None) -> dict[str, Any]:
        data: dict[str, Any] = {"psn_no": self.person.psn_no, "mdtrt_cert_type": "02",
                                "mdtrt_cert_no": self.person.certno, "mdtrt_id": self.mdtrt_id,
                                "insutype": self.person.insutype, "psn_setlway": "01", "acct_used_flag": "0",
                                "mid_setl_flag": "0"}
        if medfee is not None:
            data["medfee_sumamt"] = Decimal(medfee)
        return {"data": data}

    async def trial(self, medfee: str | Decimal | None = None, **kwargs: Any) -> dict[str, Any]:
        return await self.his.call("2303", self.settle_input(medfee), **kwargs)

    async def settle(self, medfee: str | Decimal | None, **kwargs: Any) -> dict[str, Any]:
        return await self.his.call("2304", self.settle_input(medfee), **kwargs)

    async def reverse(self, setl_id: str, **kwargs: Any) -> dict[str, Any]:
        return await self.his.call("2305", {"data": {"psn_no": self.person.psn_no, "mdtrt_id": self.mdtrt_id,
                                                     "setl_id": setl_id}}, **kwargs)

    async def discharge(self, endtime: str = "2026-03-10 09:00:00", **kwargs: Any) -> dict[str, Any]:
        return await self.his.call("2402", {
            "dscginfo": {"mdtrt_id": self.mdtrt_id, "psn_no": self.person.psn_no, "insutype": self.person.insutype,
                         "endtime": endtime, "dise_codg": "J18.900", "dise_name": "肺炎", "dscg_way": "1"},
            "diseinfo": [],
        }, **kwargs)

    async def simple(self, infno: str) -> dict[str, Any]:
        return await self.his.call(infno, {"data": {"mdtrt_id": self.mdtrt_id, "psn_no": self.person.psn_no}})


async def snapshot(served: Served, his_person: str = "poor") -> tuple[Any, ...]:
    """What a failed call must leave untouched: table counts and the person's accumulators."""
    async with served.session.get(f"{served.url}/county/v1/status") as response:
        counts = (await response.json())["counts"]
    cum = ok(await served.his("T2").call("5206", {"data": {"psn_no": PERSONS[his_person].psn_no, "cum_ym": "2026"}}))
    return counts, cum["cuminfo"]
