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
    """the message is wrong in a way no narrower code names"""
    code = "HG1000"
    title = "入参错误"


class MalformedMessage(InputError):
    """malformed message (not JSON, not UTF-8, NaN/Infinity, too large)"""
    code = "HG1001"
    title = "报文格式错误"


class MessageTooLarge(MalformedMessage):
    """The body is over the listener's limit (a SOAP Fault says Client.TooLarge)."""


class MissingField(InputError):
    """a field is missing (the path is named, e.g. `input.feedetail[3].cnt`)"""
    code = "HG1002"
    title = "缺少必填字段"


class InvalidValue(InputError):
    """a field has an invalid value (the path is named)"""
    code = "HG1003"
    title = "字段值不合法"


class UnknownTransaction(InputError):
    """unknown `infno` (or the dialect's trade code / operation)"""
    code = "HG1004"
    title = "不支持的交易编号"


class NotFoundError(GatewayError):
    """it names something the gateway does not know (no narrower code applies)"""
    code = "HG2000"
    title = "记录不存在"


class UnknownPerson(NotFoundError):
    """unknown person"""
    code = "HG2001"
    title = "参保人员不存在"


class UnknownHospital(NotFoundError):
    """unknown hospital"""
    code = "HG2002"
    title = "定点医疗机构不存在"


class UnknownCatalogueItem(NotFoundError):
    """unknown catalogue item"""
    code = "HG2003"
    title = "医保目录中无此项目"


class UnknownStay(NotFoundError):
    """unknown stay (`mdtrt_id`)"""
    code = "HG2004"
    title = "就诊记录不存在"


class UnknownSettlement(NotFoundError):
    """unknown settlement"""
    code = "HG2005"
    title = "结算记录不存在"


class UnknownFeeLine(NotFoundError):
    """unknown fee line"""
    code = "HG2006"
    title = "费用明细不存在"


class UnknownMessage(NotFoundError):
    """2601/5999: no message with that `omsgid` was received from this hospital"""
    code = "HG2007"
    title = "未收到过该报文"


class UnknownReferral(NotFoundError):
    """unknown referral (转院备案): none under this number for the calling hospital or partner"""
    code = "HG2050"
    title = "转院备案不存在"


class BusinessError(GatewayError):
    """the rules forbid it now (no narrower code applies; the message says why)"""
    code = "HG3000"
    title = "业务规则不允许"


class PersonUninsured(BusinessError):
    """person not insured (the message names the reason, e.g. 0005 参加职工医保)"""
    code = "HG3001"
    title = "人员未参保"


class IllegalTransition(BusinessError):
    """the stay's state does not allow this step (e.g. fees after settlement)"""
    code = "HG3002"
    title = "就诊状态不允许此操作"


class NoFees(BusinessError):
    """no fee lines to settle"""
    code = "HG3003"
    title = "无费用明细，不能结算"


class AlreadySettled(BusinessError):
    """already settled (reverse with 2305 first)"""
    code = "HG3004"
    title = "已结算"


class AmountMismatch(BusinessError):
    """`medfee_sumamt` differs from the uploaded lines"""
    code = "HG3005"
    title = "金额不符"


class ConflictingFeeLine(BusinessError):
    """a `feedetl_sn` re-sent with different content"""
    code = "HG3006"
    title = "费用明细流水号重复且内容不同"


class RefundWithoutOriginal(BusinessError):
    """refund line without its original"""
    code = "HG3007"
    title = "退费明细无对应原明细"


class RefundExceedsOriginal(BusinessError):
    """refunding more than the original"""
    code = "HG3008"
    title = "退费超过原明细"


class InvalidIdentity(BusinessError):
    """identity attributes rejected (reference data)"""
    code = "HG3009"
    title = "身份属性不合法"


class InvalidIdNumber(BusinessError):
    """ID number rejected (reference data)"""
    code = "HG3010"
    title = "身份证号码不合法"


class DuplicateAdmission(BusinessError):
    """the `ipt_no` already has an open admission"""
    code = "HG3011"
    title = "重复入院登记"


class NoPolicy(BusinessError):
    """no policy version is in force on the settlement date"""
    code = "HG3012"
    title = "无适用的结算政策"


class ReusedMessageId(BusinessError):
    """a msgid reused for a different request"""
    code = "HG3013"
    title = "报文ID已用于其他交易"


class NothingToCorrect(BusinessError):
    """2601: the original call failed or never completed; nothing changed, nothing to undo"""
    code = "HG3014"
    title = "原交易未生效，无需冲正"


class NotCorrectable(BusinessError):
    """2601: that transaction cannot be undone (only 2304, 2305, 2401)"""
    code = "HG3015"
    title = "该交易不可冲正"


class AlreadyCorrected(BusinessError):
    """2601: already undone (by 2305, 2404 or an earlier 2601)"""
    code = "HG3016"
    title = "原交易已冲正或已撤销"


class LaterActivity(BusinessError):
    """2601: later business depends on it (a 2305 is not undone after a later settlement of the person's year
    or a change of the stay's lines)"""
    code = "HG3017"
    title = "原交易之后已有后续业务，不能冲正"


# HG4001 (another hospital's stay) and HG4005 (another hospital's msgid) are retired, not to be reused: another
# hospital's identifiers are answered exactly as unknown ones (HG2004, HG2005, HG2007), so none can be probed.
class ReferralRecordRejected(BusinessError):
    """a referral accumulator record refused: bad signature, unknown issuer, another addressee, malformed, or a
    person this gateway does not know (one older than the record held is not refused: it changes nothing)"""
    code = "HG3050"
    title = "转诊累计记录不予接收"


class ReferralAlreadyCancelled(BusinessError):
    """2502 of a referral (转院备案) already cancelled: it stays cancelled, and a second cancellation is refused
    rather than answered as if it had done something (the same message id again is the first one's answer)"""
    code = "HG3018"
    title = "转院备案已撤销"


class AccessError(GatewayError):
    """the caller may not do this (no narrower code applies)"""
    code = "HG4000"
    title = "无权操作"


class Unauthenticated(AccessError):
    """authentication failed (missing, wrong, stale or replayed signature)"""
    code = "HG4002"
    title = "身份认证失败"


class HospitalMismatch(AccessError):
    """the message names another hospital than the one it is signed for"""
    code = "HG4003"
    title = "报文中的医疗机构与认证的机构不符"


class RoleForbidden(AccessError):
    """a county operator's role does not allow this"""
    code = "HG4004"
    title = "当前角色无权执行此操作"


class Busy(GatewayError):
    """the listener is full (connection cap); nothing was done, retry later"""
    code = "HG9002"
    title = "医保网关繁忙，交易未执行，请稍后重试"


class StoreLost(GatewayError):
    """The database file was deleted or replaced under the running gateway: whatever it wrote now would be lost
    at the next restart, so it refuses every call until an operator restarts it on the right file. Nothing was
    done (not an InternalError: a DLL's -1 would send the HIS into a recovery that cannot succeed either)."""

    code = "HG9003"
    title = "数据库文件已被删除或替换，网关已停止受理交易，请联系管理员"


class InternalError(GatewayError):
    """internal error; nothing was written"""
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


# ---- Gannan 先诊疗后付费 and its arrears register (codes HG2061.., HG3061..) ----------------------------------


class UnknownArrears(NotFoundError):
    code = "HG2061"
    title = "欠费登记不存在"


class ZeroDepositRevoked(BusinessError):
    """2401 with a zero-deposit agreement for a person on the arrears register (恶意拖欠, not yet paid in full):
    refused unless the admission is flagged an emergency (`zero_deposit.emgc_flag` 1)."""

    code = "HG3061"
    title = "先诊疗后付费资格已取消"


class ArrearsRefused(BusinessError):
    """The arrears register refuses the entry: a second report of one stay, a payment beyond what is owed."""

    code = "HG3062"
    title = "欠费登记不允许此操作"


# ---- the county's writes under attack (codes HG3101.., HG4101..) --------------------------------------------------


class AccountOverdrawn(BusinessError):
    """A receipt correction or a 拨付 would take the special account (专户) below zero on some day; refused
    unless the settings allow it ([account] overdraft = true)."""

    code = "HG3101"
    title = "一站式专户余额不足"
