#!/usr/bin/env bash
# A private Docker engine for machines that have none running: Debian's docker.io dockerd (installed
# by `scripts/tools/install.sh docker`), with its own data root, exec root and socket under the
# tools cache, never the system's. It stops only what it started.
#
#   scripts/tools/docker-engine.sh start    # starts it unless it runs; prints DOCKER_HOST=unix://...
#   scripts/tools/docker-engine.sh stop     # stops the engine this script started (containers with it)
#   scripts/tools/docker-engine.sh status   # exit 0 and DOCKER_HOST when it answers
#   scripts/tools/docker-engine.sh host     # the DOCKER_HOST it uses (nothing is started)
#
# A user's own engine is used as it is: the tests take DOCKER_HOST when it is set and answers, and
# this script only when it is not. Images built or loaded here stay in the data root, so stand-ins
# and build caches survive between runs; delete ${MERIDIAN_TOOLS_DIR:-~/.cache/meridian/tools}/docker-engine
# to start afresh. Needs root (dockerd does).
set -euo pipefail

TOOLS_DIR="${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}"
DIR="$TOOLS_DIR/docker-engine"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
HOST="unix://$SOCK"

die() { echo "✗ docker-engine.sh: $*" >&2; exit 1; }

answers() { DOCKER_HOST="$HOST" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [[ -n "$pid" && -d "/proc/$pid" ]] && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

start() {
  if answers; then echo "DOCKER_HOST=$HOST"; return 0; fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found: run scripts/tools/install.sh docker (Debian's docker.io)"
  command -v docker >/dev/null 2>&1 || die "the docker client is not found: run scripts/tools/install.sh docker"
  [[ "$(id -u)" == 0 ]] || die "dockerd needs root; run as root, or set DOCKER_HOST to an engine you have"
  mkdir -p "$DIR"
  # No iptables rules and no default bridge: the machine's own network is left alone. User-defined
  # networks (compose) still give containers DNS between each other; published ports go through
  # docker-proxy on 127.0.0.1. Its own containerd namespace keeps it apart from any other engine.
  dockerd \
    --data-root "$DIR/data" --exec-root "$DIR/exec" -H "$HOST" --pidfile "$PIDFILE" \
    --iptables=false --bridge=none --ip=127.0.0.1 \
    --containerd-namespace meridian --containerd-plugins-namespace meridian-plugins \
    >"$LOG" 2>&1 &
  local started; started=$(date +%s)
  until answers; do
    if ! kill -0 $! 2>/dev/null; then tail -n 20 "$LOG" >&2; die "dockerd exited at start (log: $LOG)"; fi
    (( $(date +%s) - started < 60 )) || { tail -n 20 "$LOG" >&2; die "dockerd did not answer within 60 s (log: $LOG)"; }
    sleep 0.5
  done
  echo "DOCKER_HOST=$HOST"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then echo "not running"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    [[ -d "/proc/$pid" ]] || { echo "stopped"; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  echo "stopped (killed after 30 s)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers && echo "DOCKER_HOST=$HOST" || { echo "not running"; exit 1; } ;;
  host) echo "$HOST" ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
