# Sourced by every journey.sh: where the gateway is, and how a request file's @…@ placeholders are filled.
# HISGW_URL: the gateway (default http://127.0.0.1:8080, as `make serve` runs it).
HISGW_URL=${HISGW_URL:-http://127.0.0.1:8080}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# @RUN@ makes each run's msgids and ipt_no new, so a journey can be played again and again.
RUN=${RUN:-$(date +%Y%m%d%H%M%S)}
# Every journey settles demo person D0001 (0001 建档立卡) at 示范县人民医院 H43052100002 (level 2, in county):
# the worked example of DOMAIN.md. A card read needs the ID number: read from the demo data, never written here.
CERTNO=$(awk -F, '$1 == "D0001" {print $2}' "$ROOT/gateway/data/demo/persons.csv")
MDTRT_ID=""
SETL_ID=""

fill() {  # fill FILE: the request file with its placeholders replaced
  sed -e "s/@RUN@/$RUN/g" -e "s/@CERTNO@/$CERTNO/g" -e "s/@MDTRT_ID@/$MDTRT_ID/g" -e "s/@SETL_ID@/$SETL_ID/g" \
    "$HERE/$1"
}

step() { printf '\n== %s\n' "$1"; }

post() {  # post PATH CONTENT-TYPE FILE: print the answer
  fill "$3" | curl -sS --fail-with-body -H "Content-Type: $2" --data-binary @- "$HISGW_URL$1"
  echo
}
