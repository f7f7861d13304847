#!/usr/bin/env bash
# Which ASGI server should `neodyme serve` use? Serves neodyme (in-memory storage, so the
# figures are the HTTP stack's) under uvicorn (uvloop + httptools) and granian, one worker
# each, and drives GET /health and GET /api/v1/auth/me with wrk (Debian package `wrk`).
# Usage: bash bench/compare_servers.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; conns=${2:-64}
command -v wrk >/dev/null || { echo "needs wrk: apt install wrk"; exit 1; }
export NEODYME_ENVIRONMENT=testing NEODYME_DATABASE_URL=memory:// NEODYME_LOG_LEVEL=WARNING
export NEODYME_SECRET_KEY=bench-secret-bench-secret-bench-secret-1234
export NEODYME_ARGON2_MEMORY_KIB=64 NEODYME_ARGON2_TIME_COST=1
port=8765
factory=neodyme_app.http.asgi:app_from_environment

run() {  # name, command...
  local name=$1; shift
  "$@" >/tmp/neodyme-bench-server.log 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.2; done
  token=$(curl -sf "localhost:$port/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","full_name":"Bench","password":"Password123!"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  for path in /health /api/v1/auth/me; do
    rps=$(wrk -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port$path" | awk '/Requests\/sec/ {print $2}')
    printf '%-28s %-18s %10s req/s\n' "$name" "$path" "$rps"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

[ -x .venv/bin/uvicorn ] || .venv/bin/pip install --quiet 'uvicorn[standard]'
run "uvicorn uvloop+httptools" .venv/bin/uvicorn --factory "$factory" --port $port \
  --loop uvloop --http httptools --no-access-log --log-level warning
run "granian" .venv/bin/granian --interface asgi --factory --port $port \
  --log-level warning --no-ws "$factory"
