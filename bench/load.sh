#!/usr/bin/env bash
# The load measurements of docs/servers.md, in one run: wrk against http_server.s and against
# httpgreet (Go's net/http), then N idle keep-alive connections held against each server, with
# its resident memory before and after.
#
#     bench/load.sh [N]        # N idle connections, 1000 unless given
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-1000}
ulimit -n $((n + 1024)) # each process: the holder, or a server, holds n connections
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

(cd .. && go build -o "$tmp/spindle" ./cmd/spindle)
go build -o "$tmp/httpgreet" ./httpgreet
go build -o "$tmp/idleconns" ./idleconns
mkdir "$tmp/site"

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; } # KiB

# serve NAME PORT CMD...: starts a server and waits until it answers.
serve() {
  local name=$1 port=$2
  shift 2
  "$@" 2>"$tmp/$name.err" &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null && return
    sleep 0.1
  done
  echo "$name did not answer" >&2
  exit 1
}

for server in spindle go; do
  if [[ $server == spindle ]]; then
    serve spindle 8080 "$tmp/spindle" run --max-fds $((n + 64)) --net 127.0.0.1:8080 --dir "$tmp/site:/www" \
      ../programs/net/http_server.s 127.0.0.1:8080 /www
    port=8080
  else
    serve go 8081 "$tmp/httpgreet" 127.0.0.1:8081
    port=8081
  fi
  echo "=== $server, pid $pid"
  echo "--- wrk -t2 -c100 -d10s --latency http://127.0.0.1:$port/"
  wrk -t2 -c100 -d10s --latency "http://127.0.0.1:$port/"
  # The holder prints its line once every connection is open and one more request is answered.
  before=$(rss "$pid")
  coproc HOLD { "$tmp/idleconns" "127.0.0.1:$port" "$n"; }
  read -r line <&"${HOLD[0]}"
  after=$(rss "$pid")
  echo "--- $line"
  echo "--- RSS $before KiB before, $after KiB after: $(( (after - before) * 1024 / n )) bytes a connection"
  echo >&"${HOLD[1]}"
  wait "$HOLD_PID" || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
