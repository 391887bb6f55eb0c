#!/usr/bin/env bash
# Redis for the fleet tests, used by .ci/run.
#
#   .ci/redis.sh install          installs redis-server with apt-get if missing
#   .ci/redis.sh start DIR [PID]  starts a redis-server on a free loopback port,
#                                 prints redis://127.0.0.1:PORT and exits; it
#                                 runs in DIR (its log, its pid in DIR/redis.pid),
#                                 with no persistence, and is stopped when
#                                 process PID (default: the caller) exits
#   .ci/redis.sh stop DIR         stops the redis-server started in DIR
#
# The tests in sse-codec-tokio/tests/fleet.rs start and stop their own
# redis-server processes; this one is the shared Redis that backend
# behaviour tests find in SSE_REDIS_URL.
set -euo pipefail

install() {
  command -v redis-server >/dev/null && return
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}

# PING over bash's /dev/tcp (redis-cli is not needed): true on +PONG.
pong() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 reply <&3 || reply=""
  exec 3<&- 3>&-
  [ "$reply" = $'+PONG\r' ]
}

start() {
  local dir=$1 owner=${2:-$PPID} port pid
  mkdir -p "$dir"
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    # Taken ports make redis-server exit at once; try another.
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$dir" --logfile "$dir/redis.log" --daemonize no \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      if pong "$port" 2>/dev/null; then
        echo "$pid" >"$dir/redis.pid"
        # Stops this redis-server when the owner exits, whatever its traps do.
        (
          while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
          kill "$pid" 2>/dev/null || true
        ) </dev/null >/dev/null 2>&1 &
        echo "redis://127.0.0.1:$port"
        return
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "redis.sh: could not start redis-server; its log:" >&2
  cat "$dir/redis.log" >&2 || true
  return 1
}

stop() {
  local pid
  pid=$(cat "$1/redis.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?usage: redis.sh start DIR [PID]}" "${3:-$PPID}" ;;
  stop) stop "${2:?usage: redis.sh stop DIR}" ;;
  *)
    echo "usage: redis.sh install | start DIR [PID] | stop DIR" >&2
    exit 2
    ;;
esac
