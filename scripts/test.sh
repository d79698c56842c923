#!/usr/bin/env bash
# Installs what is missing and runs every test: type check, unit and in-process backend tests
# (SQLite and a real PostgreSQL), and browser tests in Debian's Chromium against the running app.
# Ends with a plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_dependencies

REPORTS=$(mktemp -d)
PG_DIR=""
export RELEASE_PILOT_IT_PIDFILE="$REPORTS/it.pids"
cleanup() {
  # Process groups the integration tests started (backends, Prometheus, HAProxy, demo services):
  # normally stopped by the tests themselves; this catches what a killed test left behind.
  if [ -f "$RELEASE_PILOT_IT_PIDFILE" ]; then
    while read -r pid; do kill -9 -- "-$pid" 2>/dev/null || true; done <"$RELEASE_PILOT_IT_PIDFILE"
  fi
  if [ -n "$PG_DIR" ]; then
    su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap cleanup EXIT

# PostgreSQL: the server this machine runs on 127.0.0.1:5432 if it answers, else our own on :5433.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null &&
    psql -h 127.0.0.1 -U postgres -c 'select 1' postgres >/dev/null 2>&1; then
    PG_PORT=5432
    export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="postgresql://postgres@127.0.0.1:5432"
    log "PostgreSQL: using the server on 127.0.0.1:5432"
    return
  fi
  apt_install postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_DIR=$(mktemp -d /tmp/release-pilot-pg.XXXXXX)
  chown postgres "$PG_DIR"
  su postgres -c "$PG_BIN/initdb -D $PG_DIR -A trust -U postgres" >/dev/null
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR -o '-c listen_addresses=127.0.0.1 -p 5433 -k $PG_DIR' -w start" >/dev/null
  PG_PORT=5433
  export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="postgresql://postgres@127.0.0.1:5433"
  log "PostgreSQL: started our own on 127.0.0.1:5433"
}

ensure_postgres
[ -x /usr/bin/chromium ] || apt_install chromium
# The real-targets stack: Debian's Prometheus and HAProxy (started and stopped by the test itself).
command -v prometheus >/dev/null || apt_install prometheus
command -v haproxy >/dev/null || apt_install haproxy
# The resilience gate's real faults: nftables in network namespaces (iproute2) and stress-ng.
command -v nft >/dev/null || apt_install nftables
command -v ip >/dev/null || apt_install iproute2
command -v stress-ng >/dev/null || apt_install stress-ng

passed=0
failed=0

log "Type check (tsc)"
if $YARN tsc >"$REPORTS/tsc.log" 2>&1; then
  passed=$((passed + 1))
else
  cat "$REPORTS/tsc.log"
  failed=$((failed + 1))
fi

log "Lint (eslint)"
if $YARN backstage-cli repo lint >"$REPORTS/lint.log" 2>&1; then
  passed=$((passed + 1))
else
  tail -n 60 "$REPORTS/lint.log"
  failed=$((failed + 1))
fi

log "Unit and backend tests (jest)"
CI=true $YARN backstage-cli repo test --json --outputFile="$REPORTS/jest.json" >"$REPORTS/jest.log" 2>&1
jest_status=$?
tail -n 30 "$REPORTS/jest.log"
if [ -f "$REPORTS/jest.json" ]; then
  read -r p f < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)' "$REPORTS/jest.json")
  passed=$((passed + p))
  failed=$((failed + f))
elif [ $jest_status -ne 0 ]; then
  failed=$((failed + 1))
fi

log "Install check: pack the plugin family, install the tarballs into a scratch Backstage, start it (test/install/check.sh)"
if ./test/install/check.sh >"$REPORTS/install.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
grep -E '^(packed|scratch|install check)' "$REPORTS/install.log" || tail -n 40 "$REPORTS/install.log"

log "Backend processes on PostgreSQL: the simulated fleet (healthy, overload, no-orders, faulty, CLI, risk gate, permissions, scaffolder dry run, SIGKILL), the real-targets stack (Prometheus, HAProxy, demo service, load) and two whole backends on it, the driving one SIGKILLed again and again, one release across three regions' stacks, the resilience gate with real faults (node --test)"
IT_PREFIX="rp_it_$$_"
# The replicas run kills the driving backend 5 times here (about 3 min); RELEASE_PILOT_IT_REPLICA_KILLS=20 for the longer trial.
RELEASE_PILOT_IT_PG_HOST=127.0.0.1 RELEASE_PILOT_IT_PG_PORT=$PG_PORT RELEASE_PILOT_IT_DB_PREFIX=$IT_PREFIX \
  RELEASE_PILOT_IT_REPLICA_KILLS=${RELEASE_PILOT_IT_REPLICA_KILLS:-5} \
  node --test --test-concurrency=1 --test-reporter=tap test/integration/ >"$REPORTS/it.tap" 2>&1
grep -E '^# (-fragile|1\.5\.|backend SIGKILLed|healthy|overload|no-orders|faulty|cli|risk|restart|replicas|regions|malformed|permissions|scaffolder|stack)|^not ok|^# (pass|fail)' "$REPORTS/it.tap" || tail -n 40 "$REPORTS/it.tap"
# Each failure with its error (the YAML block under "not ok", at any depth), and each suite's duration.
awk '/^ *not ok /{n=30} n>0{print "it failure: " $0; n--; if ($0 ~ /^ *\.\.\.$/) n=0}' "$REPORTS/it.tap" | head -n 120
awk '/^(ok|not ok) /{name=$0} /^  duration_ms:/{if (name != "") print "it duration: " name " " $2 " ms"; name=""}' "$REPORTS/it.tap"
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$REPORTS/it.tap" | tail -1)
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$REPORTS/it.tap" | tail -1)
if [ -n "$p" ] && [ -n "$f" ]; then
  passed=$((passed + p))
  failed=$((failed + f))
else
  failed=$((failed + 1))
fi
for db in $(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "select datname from pg_database where datname like '${IT_PREFIX}%'" postgres 2>/dev/null); do
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "drop database if exists \"$db\"" postgres >/dev/null 2>&1
done

log "Reliability: two replicas on PostgreSQL, SIGKILLed or frozen past their lease at random, metric outages (yarn test:reliability)"
# 20 kill trials here (about 4.5 min); `yarn test:reliability` alone runs 50 (RELEASE_PILOT_RELIABILITY_TRIALS).
if RELEASE_PILOT_RELIABILITY_TRIALS=${RELEASE_PILOT_RELIABILITY_TRIALS:-20} RELEASE_PILOT_IT_PG_HOST=127.0.0.1 RELEASE_PILOT_IT_PG_PORT=$PG_PORT node plugins/releases-backend/reliability/bin/reliability >"$REPORTS/reliability.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
grep -E '^(reliability|problem):' "$REPORTS/reliability.log" | tail -n 25 || tail -n 30 "$REPORTS/reliability.log"

log "Database restart: PostgreSQL stopped for 10 s under 200 releases at once (yarn test:db-restart runs 1,000; docs/scale.md)"
[ -x "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/pg_ctl" ] || apt_install postgresql
if node plugins/releases-backend/reliability/bin/reliability-db-restart --releases 200 --down 10 >"$REPORTS/db-restart.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
grep -E '^(db-restart|problem):' "$REPORTS/db-restart.log" | tail -n 25 || tail -n 30 "$REPORTS/db-restart.log"

log "Scale: a short trial of yarn bench:scale (200 releases, 2 replicas, one killed; the full runs are in docs/scale.md)"
if RELEASE_PILOT_IT_PG_HOST=127.0.0.1 RELEASE_PILOT_IT_PG_PORT=$PG_PORT node plugins/releases-backend/bench/bin/bench-scale --releases 200 --replicas 2 --warmup 8 --seconds 10 --check >"$REPORTS/scale.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
grep -vE '^20[0-9]{2}-' "$REPORTS/scale.log" | tail -n 12

log "Browser tests (Playwright + Debian Chromium; starts the app itself)"
CI=true E2E_JSON_REPORT="$REPORTS/e2e.json" $YARN playwright test 2>&1 | tail -n 30
if [ -f "$REPORTS/e2e.json" ]; then
  read -r p f < <(node -e 'const s=require(process.argv[1]).stats; console.log(s.expected, s.unexpected + s.flaky)' "$REPORTS/e2e.json")
  passed=$((passed + p))
  failed=$((failed + f))
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
