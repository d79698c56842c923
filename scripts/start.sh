#!/usr/bin/env bash
# Installs what is missing and starts Release Pilot's Backstage: frontend on :3000, backend on :7007,
# with everything on the embedded default (SQLite in memory, the simulated fleet).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_dependencies
log "Starting Backstage: open http://localhost:3000 (guest sign-in), then Catalog > checkout > Releases"
exec $YARN start "$@"
