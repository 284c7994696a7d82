#!/bin/sh
# NCMS-style SOAP (新农合: an operation per trade, positional string arguments, Result/sResult/sMessage) over
# curl, one SOAP envelope per call. WSDL: $HISGW_URL/soap/ncms?wsdl
#   sh examples/ncms-soap/journey.sh            # against `make serve` (HISGW_URL=http://127.0.0.1:8080)
set -eu
. "$(dirname "$0")/../lib.sh"
call() { post /soap/ncms "text/xml; charset=utf-8" "$1"; }
first() { sed -n 's/.*<tns:sResult>\([^|<]*\).*/\1/p'; }  # the first column of sResult

step "GetPersonInfo 读卡（1101）";            call GetPersonInfo.xml
step "InpatientRegister 入院登记（2401）";    answer=$(call InpatientRegister.xml); echo "$answer"
MDTRT_ID=$(echo "$answer" | first)
step "InpatientFeeUpload 费用上传（2301）";   call InpatientFeeUpload.xml
step "InpatientCalculate 预结算（sCalcType 0, 2303）"; call InpatientCalculate-trial.xml
step "InpatientCalculate 结算（sCalcType 1, 2304）";   answer=$(call InpatientCalculate-settle.xml); echo "$answer"
SETL_ID=$(echo "$answer" | first)
step "InpatientCalculateCancel 结算撤销（2305）"; call InpatientCalculateCancel.xml
