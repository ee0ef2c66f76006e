#!/usr/bin/env bash
# SES v2 emulator: moto's server (moto_server, Python), as it is on the
# machine: this script installs nothing. moto keeps the mail it accepts,
# readable at <endpoint>/moto-api/data.json (ses.Message).
#   moto.sh check                -> fails, saying so, unless moto_server is there
#   moto.sh start <statedir>     -> prints http://127.0.0.1:PORT
#   moto.sh stop  <statedir>
# State files: <statedir>/moto.{pid,endpoint,log}. Data is in memory only.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check() {
  command -v moto_server >/dev/null 2>&1 ||
    die "moto_server is not installed: the SES tests need it (pip install 'moto[server]==5.2.1')"
}

probe() { [[ $(http_code "$1/moto-api/data.json") == 200 ]]; }

start() {
  local sd=$1 port ep pid rc attempt
  mkdir -p "$sd"; sd=$(cd "$sd" && pwd)
  stop "$sd"
  check
  for attempt in 1 2 3; do # retry only if the picked port was taken meanwhile
    port=$(free_port); ep="http://127.0.0.1:$port"
    moto_server -H 127.0.0.1 -p "$port" </dev/null >"$sd/moto.log" 2>&1 &
    pid=$!
    echo "$pid" >"$sd/moto.pid"; echo "$ep" >"$sd/moto.endpoint"
    rc=0; wait_ready "$pid" 30 probe "$ep" || rc=$?
    case $rc in
      0) echo "$ep"; return 0 ;;
      2) grep -qi 'address already in use' "$sd/moto.log" && continue ;;
    esac
    break
  done
  show_log "$sd/moto.log"; stop "$sd"
  if ((rc == 2)); then die "moto_server exited before answering on $ep"; fi
  die "moto_server did not answer on $ep within 30 s"
}

stop() {
  stop_pidfile "$1/moto.pid" moto_server
  rm -f "$1/moto.endpoint"
}

case "${1:-}" in
  check) [[ $# -eq 1 ]] || die "usage: $0 check"; check ;;
  start) [[ $# -eq 2 ]] || die "usage: $0 start <statedir>"; start "$2" ;;
  stop)  [[ $# -eq 2 ]] || die "usage: $0 stop <statedir>"; stop "$2" ;;
  *) die "usage: $0 check | start <statedir> | stop <statedir>" ;;
esac
