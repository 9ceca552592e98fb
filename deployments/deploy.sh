#!/usr/bin/env bash
# Register the sqis deployments against PREFECT_API_URL (make deploy).
# Creates the process work pool sqis-process when missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${SQIS_VENV_BIN:-.venv/bin}"
POOL="${SQIS_WORK_POOL:-sqis-process}"
if [[ -z "${PREFECT_API_URL:-}" ]]; then
  echo "deploy: PREFECT_API_URL is not set (e.g. http://127.0.0.1:4200/api; make serve starts one)" >&2
  exit 2
fi
if ! "$BIN/prefect" work-pool inspect "$POOL" >/dev/null 2>&1; then
  "$BIN/prefect" work-pool create "$POOL" --type process
fi
"$BIN/python" deployments/deploy.py
echo "deploy: 3 deployments on work pool $POOL at $PREFECT_API_URL"
