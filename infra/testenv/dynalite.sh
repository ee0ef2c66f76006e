#!/usr/bin/env bash
# DynamoDB emulator (dynalite, pinned in infra/dynalite/package-lock.json).
#   dynalite.sh start <statedir>   -> prints http://127.0.0.1:PORT
#   dynalite.sh stop  <statedir>
# State files: <statedir>/dynalite.{pid,endpoint,log}. Data is in memory only.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$REPO/infra/dynalite"
CLI="$DIR/node_modules/dynalite/cli.js"

# npm writes node_modules/.package-lock.json on every install: (re)install when
# it is missing or older than the committed lock.
stale() { [[ ! -f $DIR/node_modules/.package-lock.json || $DIR/package-lock.json -nt $DIR/node_modules/.package-lock.json ]]; }

install() {
  if stale; then
    # Lock the folder itself so parallel starts don't run npm ci together;
    # re-check under the lock (another start may have just installed it).
    ( exec 9<"$DIR"; flock 9; if stale; then cd "$DIR" && npm ci --no-audit --no-fund >&2; fi )
  fi
  [[ -f $CLI ]] || die "dynalite not installed at $CLI"
}

# Unsigned requests get 400 MissingAuthenticationTokenException, so send a
# dummy SigV4 Authorization header (dynalite never checks the signature).
probe() {
  [[ $(http_code "$1" -X POST -d '{}' \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'X-Amz-Date: 20240101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00') == 200 ]]
}

start() {
  local sd=$1 port ep pid rc attempt
  mkdir -p "$sd"; sd=$(cd "$sd" && pwd)
  stop "$sd"
  install
  for attempt in 1 2 3; do # retry only if the picked port was taken meanwhile
    port=$(free_port); ep="http://127.0.0.1:$port"
    # --port 0 is not usable: cli.js does `argv.port || 4567`.
    node "$CLI" --host 127.0.0.1 --port "$port" \
      --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 \
      </dev/null >"$sd/dynalite.log" 2>&1 &
    pid=$!
    echo "$pid" >"$sd/dynalite.pid"; echo "$ep" >"$sd/dynalite.endpoint"
    rc=0; wait_ready "$pid" 20 probe "$ep" || rc=$?
    case $rc in
      0) echo "$ep"; return 0 ;;
      2) grep -q EADDRINUSE "$sd/dynalite.log" && continue ;;
    esac
    break
  done
  show_log "$sd/dynalite.log"; stop "$sd"
  if ((rc == 2)); then die "dynalite exited before answering on $ep"; fi
  die "dynalite did not answer on $ep within 20 s"
}

stop() {
  stop_pidfile "$1/dynalite.pid" dynalite
  rm -f "$1/dynalite.endpoint"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || die "usage: $0 start <statedir>"; start "$2" ;;
  stop)  [[ $# -eq 2 ]] || die "usage: $0 stop <statedir>"; stop "$2" ;;
  *) die "usage: $0 start|stop <statedir>" ;;
esac
