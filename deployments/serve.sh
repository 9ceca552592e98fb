#!/usr/bin/env bash
# A local Prefect server on 127.0.0.1 and a worker for the sqis-process pool (make serve).
# Ctrl-C stops both. Production runs the server and worker as services: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${SQIS_VENV_BIN:-.venv/bin}"
PORT="${PREFECT_PORT:-4200}"
POOL="${SQIS_WORK_POOL:-sqis-process}"
export PREFECT_API_URL="http://127.0.0.1:${PORT}/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME="${PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME:-P400D}"
[[ -f var/demo.env ]] && { set -a; source var/demo.env; set +a; }

"$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" &
SERVER=$!
trap 'kill $SERVER ${WORKER:-} 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 60); do
  curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1 && break
  sleep 1
done
"$BIN/prefect" work-pool inspect "$POOL" >/dev/null 2>&1 || "$BIN/prefect" work-pool create "$POOL" --type process
echo "serve: Prefect UI at http://127.0.0.1:${PORT}; register the deployments with: PREFECT_API_URL=$PREFECT_API_URL make deploy"
"$BIN/prefect" worker start --pool "$POOL" &
WORKER=$!
wait $SERVER
