#!/bin/sh
# The national interface (医疗保障信息平台 HTTP/JSON) over curl: a whole stay of demo person D0001, then the
# settlement reversed so that the next run settles on the same figures.
#   sh examples/nhsa-http/journey.sh            # against `make serve` (HISGW_URL=http://127.0.0.1:8080)
set -eu
. "$(dirname "$0")/../lib.sh"
call() { post /fsi/api/rsfComIfsService/callService application/json "$1"; }
pick() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }  # pick NAME: a string field of the answer

step "9001 签到";       call 9001-sign-in.json
step "1101 人员信息获取"; call 1101-person.json
step "2401 入院办理";    answer=$(call 2401-admit.json); echo "$answer"
MDTRT_ID=$(echo "$answer" | pick mdtrt_id)
step "2301 费用明细上传"; call 2301-fees.json
step "2303 预结算";      call 2303-pre-settle.json
step "2304 结算";        answer=$(call 2304-settle.json); echo "$answer"
SETL_ID=$(echo "$answer" | pick setl_id)
step "2305 结算撤销";    call 2305-reverse.json
