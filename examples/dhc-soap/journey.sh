#!/bin/sh
# DHC-style SOAP (东华 HIPMessageServer(action, message)) over curl: a SOAP envelope per trade, the inner
# <Request> message in CDATA (a HIS may as well escape it: &lt;Request&gt;…). WSDL: $HISGW_URL/soap/dhc?wsdl
#   sh examples/dhc-soap/journey.sh             # against `make serve` (HISGW_URL=http://127.0.0.1:8080)
set -eu
. "$(dirname "$0")/../lib.sh"
call() { post /soap/dhc "text/xml; charset=utf-8" "$1"; }
pick() { sed -n "s/.*&lt;$1&gt;\([^&]*\)&lt;.*/\1/p"; }  # pick NAME: an element of the answer's inner message

step "GetPatInfo 读卡（1101）";        call GetPatInfo.xml
step "InpatReg 入院登记（2401）";      answer=$(call InpatReg.xml); echo "$answer"
MDTRT_ID=$(echo "$answer" | pick AdmNo)
step "InpatFeeUpload 费用上传（2301）"; call InpatFeeUpload.xml
step "InpatPreSettle 预结算（2303）";   call InpatPreSettle.xml
step "InpatSettle 结算（2304）";        answer=$(call InpatSettle.xml); echo "$answer"
SETL_ID=$(echo "$answer" | pick SetlId)
step "InpatSettleCancel 结算撤销（2305）"; call InpatSettleCancel.xml
