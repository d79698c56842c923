#!/usr/bin/env bash
# Installs what is missing and starts Release Pilot on real parts: Prometheus and HAProxy from
# Debian's packages, the demo service as stable and canary under load, and Backstage (:3000, :7007)
# with the HAProxy + Prometheus target `vm` and the entity checkout-vm. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_dependencies
command -v prometheus >/dev/null || apt_install prometheus
command -v haproxy >/dev/null || apt_install haproxy
exec node test/integration/stack/up.mjs
