# Shared helpers for the test-emulator scripts in this folder. Sourced, not run.
# shellcheck shell=bash

# Repo root, found from this file's own location (works from any cwd).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$REPO/.bin"

die() { echo "testenv: $*" >&2; exit 1; }

# Print a free TCP port on 127.0.0.1 (the OS picks it; tiny race until the
# server binds it, which start() covers by retrying).
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  else
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}

# running PID: alive and not a zombie (an orphan is reparented to a pid 1
# that may reap it late, and kill -0 succeeds on zombies).
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }

# wait_ready PID TIMEOUT_S CMD...: run CMD until it succeeds.
# Returns 0 when ready, 2 if PID died first, 1 on timeout.
wait_ready() {
  local pid=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    running "$pid" || return 2
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# http_code URL [curl args...]: prints the HTTP status ("000" = no answer).
http_code() {
  local url=$1; shift
  curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" "$url" || true
}

# stop_pidfile PIDFILE MARKER: TERM (then KILL after 10 s) the process in
# PIDFILE if it is still running and its command line contains MARKER (guards
# against a recycled pid). Idempotent.
stop_pidfile() {
  local pidfile=$1 marker=$2 pid i
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$marker"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Show the end of a log on stderr (used when a start fails).
show_log() { [[ -f $1 ]] && { echo "--- last lines of $1:" >&2; tail -n 30 "$1" >&2; }; return 0; }
