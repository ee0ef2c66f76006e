#!/usr/bin/env bash
# AWS Lambda Runtime Interface Emulator (RIE), built into <repo>/.bin, running a
# custom-runtime Go binary ("bootstrap", built with -tags lambda.norpc) directly
# on this machine, without Docker.
#   rie.sh install
#   rie.sh start <statedir> <bootstrap-path> [KEY=VALUE ...]  -> prints endpoint
#   rie.sh stop  <statedir>
# Invoke: POST <endpoint>/2015-03-31/functions/function/invocations, body = the
# event JSON; the reply body is the handler's return value JSON (HTTP 200 even
# for a returned error; 502 if the runtime panicked or exited).
# The function sees ONLY the KEY=VALUEs given plus the defaults below (the
# caller's environment is not passed on; give e.g. GOCOVERDIR=... explicitly).
# State files: <statedir>/rie.{pid,endpoint,log}; the function's output is in
# the log too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOD=github.com/aws/aws-lambda-runtime-interface-emulator
VERSION=v0.0.0-20261030222936-bef5c4ba774d
EXE="$BIN/aws-lambda-rie"

installed() { go version -m "$EXE" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$MOD[[:space:]]+$VERSION[[:space:]]"; }

install() {
  installed && return 0
  mkdir -p "$BIN"
  ( exec 9<"$BIN"; flock 9   # pkg@version never reads or edits the repo's go.mod
    installed || (cd / && GOBIN="$BIN" go install "$MOD/cmd/aws-lambda-rie@$VERSION") )
  installed || die "aws-lambda-rie $VERSION not installed at $EXE"
}

# The RIE serves only the invocations path (any method there runs an invoke),
# so readiness = any HTTP answer (404) on "/". The bootstrap itself is started
# lazily by the first invoke, which therefore includes the function's init.
answers() { [[ $(http_code "$1/") != 000 ]]; }

start() {
  local sd=$1 bs=$2 port apiport ep pid rc=0 attempt kv; shift 2
  [[ -f $bs && -x $bs ]] || die "bootstrap not an executable file: $bs"
  bs="$(cd "$(dirname "$bs")" && pwd)/$(basename "$bs")"
  for kv in "$@"; do [[ $kv == [A-Za-z_]*=* ]] || die "not KEY=VALUE: $kv"; done
  mkdir -p "$sd"; sd=$(cd "$sd" && pwd)
  stop "$sd"
  install >&2
  for attempt in 1 2 3; do
    port=$(free_port); apiport=$(free_port); ep="http://127.0.0.1:$port"
    # - The Runtime API (AWS_LAMBDA_RUNTIME_API for the child) defaults to the
    #   fixed 127.0.0.1:9001, so parallel RIEs would collide: give it a port.
    # - Exactly one positional arg (the bootstrap); a further one would be
    #   taken as the handler name. The function's cwd is the RIE's cwd.
    # - The RIE forwards its whole environment to the function: env -i keeps
    #   it hermetic. Defaults mimic Lambda; KEY=VALUE args override them.
    #   AWS_LAMBDA_MAX_CONCURRENCY must stay unset (it switches the RIE into
    #   another mode). AWS_LAMBDA_FUNCTION_TIMEOUT (s) defaults to 300.
    # - setsid: own session, so stop can also reap the bootstrap.
    (cd "$(dirname "$bs")" && exec env -i PATH="/usr/local/bin:/usr/bin:/bin" \
      TZ=:UTC AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
      AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$@" \
      setsid "$EXE" --runtime-interface-emulator-address "127.0.0.1:$port" \
      --runtime-api-address "127.0.0.1:$apiport" "$bs" \
      </dev/null >"$sd/rie.log" 2>&1) &
    pid=$!   # the subshell execs env, env execs setsid, setsid execs the RIE
    echo "$pid" >"$sd/rie.pid"; echo "$ep" >"$sd/rie.endpoint"
    rc=0; wait_ready "$pid" 20 answers "$ep" || rc=$?
    ((rc == 0)) && { echo "$ep"; return 0; }
    ((rc == 2)) && grep -q 'address already in use' "$sd/rie.log" && continue
    break
  done
  show_log "$sd/rie.log"; stop "$sd"
  if ((rc == 2)); then die "aws-lambda-rie exited before answering on $ep"; fi
  die "aws-lambda-rie did not answer on $ep within 20 s"
}

stop() {
  local pid=""
  # Only if the pid is still our RIE: remember it to reap its session.
  [[ -f $1/rie.pid ]] && pid=$(cat "$1/rie.pid") &&
    { tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q aws-lambda-rie || pid=""; }
  # TERM makes the RIE SIGKILL the bootstrap and exit.
  stop_pidfile "$1/rie.pid" aws-lambda-rie
  # Then kill whatever is left in its session (setsid made the RIE the
  # leader; the bootstrap gets its own process group but stays in it).
  if [[ -n $pid ]]; then pkill -KILL -s "$pid" 2>/dev/null || true; fi
  rm -f "$1/rie.endpoint"
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || die "usage: $0 install"; install ;;
  start) [[ $# -ge 3 ]] || die "usage: $0 start <statedir> <bootstrap> [KEY=VALUE...]"; shift; start "$@" ;;
  stop)  [[ $# -eq 2 ]] || die "usage: $0 stop <statedir>"; stop "$2" ;;
  *) die "usage: $0 install | start <statedir> <bootstrap> [KEY=VALUE...] | stop <statedir>" ;;
esac
