"""One exception tree for the whole gateway.

Every error a caller can see carries a stable code and a Chinese message for the operator at the
settlement window. Dialects translate the code to their own error code and text at the edge.

    GatewayError
    ├── InputError            HG1xxx  the message itself is wrong (syntax, missing or mistyped field)
    ├── NotFoundError         HG2xxx  it names something we do not know
    ├── BusinessError         HG3xxx  well-formed, but the rules forbid it now
    ├── AccessError           HG4xxx  the caller may not do this
    └── InternalError         HG9xxx  our fault; the state is unchanged
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "HG0000"
    title = "网关错误"

    def __init__(self, detail: str = "", *, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """e.g. "字段值不合法 [input.feedetail[3].cnt]: 数量不能为 0"."""
        where = f" [{self.field}]" if self.field else ""
        return f"{self.title}{where}: {self.detail}" if self.detail else f"{self.title}{where}"


class InputError(GatewayError):
    code = "HG1000"
    title = "入参错误"


class MalformedMessage(InputError):
    code = "HG1001"
    title = "报文格式错误"


class MessageTooLarge(MalformedMessage):
    """The body is over the listener's limit (a SOAP Fault says Client.TooLarge)."""


class MissingField(InputError):
    code = "HG1002"
    title = "缺少必填字段"


class InvalidValue(InputError):
    code = "HG1003"
    title = "字段值不合法"


class UnknownTransaction(InputError):
    code = "HG1004"
    title = "不支持的交易编号"


class NotFoundError(GatewayError):
    code = "HG2000"
    title = "记录不存在"


class UnknownPerson(NotFoundError):
    code = "HG2001"
    title = "参保人员不存在"


class UnknownHospital(NotFoundError):
    code = "HG2002"
    title = "定点医疗机构不存在"


class UnknownCatalogueItem(NotFoundError):
    code = "HG2003"
    title = "医保目录中无此项目"


class UnknownStay(NotFoundError):
    code = "HG2004"
    title = "就诊记录不存在"


class UnknownSettlement(NotFoundError):
    code = "HG2005"
    title = "结算记录不存在"


class UnknownFeeLine(NotFoundError):
    code = "HG2006"
    title = "费用明细不存在"


class UnknownMessage(NotFoundError):
    code = "HG2007"
    title = "未收到过该报文"


class BusinessError(GatewayError):
    code = "HG3000"
    title = "业务规则不允许"


class PersonUninsured(BusinessError):
    code = "HG3001"
    title = "人员未参保"


class IllegalTransition(BusinessError):
    code = "HG3002"
    title = "就诊状态不允许此操作"


class NoFees(BusinessError):
    code = "HG3003"
    title = "无费用明细，不能结算"


class AlreadySettled(BusinessError):
    code = "HG3004"
    title = "已结算"


class AmountMismatch(BusinessError):
    code = "HG3005"
    title = "金额不符"


class ConflictingFeeLine(BusinessError):
    code = "HG3006"
    title = "费用明细流水号重复且内容不同"


class RefundWithoutOriginal(BusinessError):
    code = "HG3007"
    title = "退费明细无对应原明细"


class RefundExceedsOriginal(BusinessError):
    code = "HG3008"
    title = "退费超过原明细"


class InvalidIdentity(BusinessError):
    code = "HG3009"
    title = "身份属性不合法"


class InvalidIdNumber(BusinessError):
    code = "HG3010"
    title = "身份证号码不合法"


class DuplicateAdmission(BusinessError):
    code = "HG3011"
    title = "重复入院登记"


class NoPolicy(BusinessError):
    code = "HG3012"
    title = "无适用的结算政策"


class ReusedMessageId(BusinessError):
    code = "HG3013"
    title = "报文ID已用于其他交易"


class NothingToCorrect(BusinessError):
    code = "HG3014"
    title = "原交易未生效，无需冲正"


class NotCorrectable(BusinessError):
    code = "HG3015"
    title = "该交易不可冲正"


class AlreadyCorrected(BusinessError):
    code = "HG3016"
    title = "原交易已冲正或已撤销"


class LaterActivity(BusinessError):
    code = "HG3017"
    title = "原交易之后已有后续业务，不能冲正"


class AccessError(GatewayError):
    code = "HG4000"
    title = "无权操作"


class ForeignStay(AccessError):
    code = "HG4001"
    title = "非本机构的就诊记录"


class Unauthenticated(AccessError):
    code = "HG4002"
    title = "身份认证失败"


class HospitalMismatch(AccessError):
    code = "HG4003"
    title = "报文中的医疗机构与认证的机构不符"


class RoleForbidden(AccessError):
    code = "HG4004"
    title = "当前角色无权执行此操作"


class ForeignMessage(AccessError):
    code = "HG4005"  # HG4002-HG4004 are authentication's
    title = "非本机构发送的报文"


class Busy(GatewayError):
    code = "HG9002"
    title = "医保网关繁忙，交易未执行，请稍后重试"


class InternalError(GatewayError):
    code = "HG9001"
    title = "网关内部错误，交易未执行"


# ---- outpatient and chronic-disease recognition (codes HG2051.., HG3051.. so parallel work keeps its numbers) --


class UnknownChronicDisease(NotFoundError):
    code = "HG2051"
    title = "不在门诊特殊慢性病病种目录"


class UnknownRecognition(NotFoundError):
    code = "HG2052"
    title = "慢性病认定记录不存在"


class WrongVisitKind(BusinessError):
    """An inpatient trade on an outpatient visit, or the other way round."""

    code = "HG3051"
    title = "就诊类型不符"


class NotRecognisingHospital(BusinessError):
    code = "HG3052"
    title = "医疗机构无慢性病认定资格"


class UnqualifiedDoctors(BusinessError):
    code = "HG3053"
    title = "认定医师不符合要求"


class DuplicateRecognition(BusinessError):
    code = "HG3054"
    title = "该病种已有有效认定"
