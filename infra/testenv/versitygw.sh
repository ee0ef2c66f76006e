#!/usr/bin/env bash
# S3 emulator: Versity S3 Gateway (posix backend), built into <repo>/.bin.
#   versitygw.sh install
#   versitygw.sh start <statedir>  -> prints http://127.0.0.1:PORT
#   versitygw.sh stop  <statedir>
# State files: <statedir>/versitygw.{pid,endpoint,access_key,secret_key,log},
# objects under <statedir>/versitygw-data (wiped on every start).
# Keys are random per start unless VERSITYGW_ACCESS_KEY/VERSITYGW_SECRET_KEY
# are set. Region is versitygw's default, us-east-1. Use path-style addressing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOD=github.com/versity/versitygw
VERSION=v1.8.0
EXE="$BIN/versitygw"

installed() { go version -m "$EXE" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$MOD[[:space:]]+$VERSION[[:space:]]"; }

install() {
  installed && return 0
  mkdir -p "$BIN"
  # pkg@version builds in module-aware mode outside the repo's go.mod (never
  # touches it); run from / so no go.work or GOFLAGS=-mod=... of the repo apply.
  ( exec 9<"$BIN"; flock 9
    installed || (cd / && GOBIN="$BIN" go install "$MOD/cmd/versitygw@$VERSION") )
  installed || die "versitygw $VERSION not installed at $EXE"
}

healthy() { [[ $(http_code "$1/health") == 200 ]]; }

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

start() {
  local sd=$1 port ep pid rc=0 attempt meta=() ak sk
  mkdir -p "$sd"; sd=$(cd "$sd" && pwd)
  stop "$sd"
  install >&2
  ak=${VERSITYGW_ACCESS_KEY:-AKTEST$(rand_hex 7)}
  sk=${VERSITYGW_SECRET_KEY:-$(rand_hex 20)}
  rm -rf "$sd/versitygw-data" "$sd/versitygw-meta"; mkdir -p "$sd/versitygw-data"
  for attempt in 1 2 3 4; do
    port=$(free_port); ep="http://127.0.0.1:$port"
    # No IAM flags: the root key pair is the only ("single account mode")
    # user and may create buckets. --health gives an unauthenticated 200.
    ROOT_ACCESS_KEY=$ak ROOT_SECRET_KEY=$sk "$EXE" --port "127.0.0.1:$port" \
      --health /health posix "${meta[@]}" "$sd/versitygw-data" \
      </dev/null >"$sd/versitygw.log" 2>&1 &
    pid=$!
    echo "$pid" >"$sd/versitygw.pid"; echo "$ep" >"$sd/versitygw.endpoint"
    echo "$ak" >"$sd/versitygw.access_key"; echo "$sk" >"$sd/versitygw.secret_key"
    rc=0; wait_ready "$pid" 20 healthy "$ep" || rc=$?
    ((rc == 0)) && { echo "$ep"; return 0; }
    ((rc == 2)) || break
    # posix backend keeps metadata in user xattrs by default; on a filesystem
    # without them it exits with "xattr check failed": use a sidecar dir.
    if grep -q 'xattr check failed' "$sd/versitygw.log" && ((${#meta[@]} == 0)); then
      mkdir -p "$sd/versitygw-meta"; meta=(--sidecar "$sd/versitygw-meta"); continue
    fi
    grep -q 'address already in use' "$sd/versitygw.log" || break
  done
  show_log "$sd/versitygw.log"; stop "$sd"
  if ((rc == 2)); then die "versitygw exited before answering on $ep"; fi
  die "versitygw did not answer on $ep within 20 s"
}

stop() {
  stop_pidfile "$1/versitygw.pid" versitygw
  rm -f "$1"/versitygw.{endpoint,access_key,secret_key}
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || die "usage: $0 install"; install ;;
  start) [[ $# -eq 2 ]] || die "usage: $0 start <statedir>"; start "$2" ;;
  stop)  [[ $# -eq 2 ]] || die "usage: $0 stop <statedir>"; stop "$2" ;;
  *) die "usage: $0 install | start <statedir> | stop <statedir>" ;;
esac
