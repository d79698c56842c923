#!/usr/bin/env bash
# The install check: packs the plugin family, creates a scratch Backstage app and backend of its own
# (not the demo's workspaces), installs the tarballs into it, adds the plugins the way the README's
# "Install in your Backstage" says (and fails if the README no longer says so), starts it, and checks
# through the API that a simulated release succeeds and in Chromium that the Releases tab renders.
# It also times the risk model's training from the packed package (`yarn bench:risk --package`).
# Usage: test/install/check.sh   (RELEASE_PILOT_SCRATCH_PORT, default 7047)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
ensure_dependencies
[ -x /usr/bin/chromium ] || apt_install chromium
ROOT=$(pwd)
PORT=${RELEASE_PILOT_SCRATCH_PORT:-7047}
SCRATCH=$(mktemp -d /tmp/release-pilot-scratch.XXXXXX)
BACKEND_PID=""
cleanup() {
  [ -n "$BACKEND_PID" ] && kill -- "-$BACKEND_PID" 2>/dev/null || true
  [ -n "${RELEASE_PILOT_KEEP_SCRATCH:-}" ] || rm -rf "$SCRATCH"
}
trap cleanup EXIT

# The lines the README tells an adopter to add; each must appear in the README verbatim.
BACKEND_LINES=(
  "backend.add(import('@release-pilot/plugin-releases-backend'));"
  "backend.add(import('@release-pilot/plugin-releases-backend-module-simulator'));"
)
APP_IMPORT="import releasesPlugin from '@release-pilot/plugin-releases/alpha';"
APP_FEATURES="features: [catalogPlugin, releasesPlugin],"
ADD_BACKEND="yarn --cwd packages/backend add @release-pilot/plugin-releases-backend @release-pilot/plugin-releases-backend-module-simulator"
ADD_APP="yarn --cwd packages/app add @release-pilot/plugin-releases"
CONFIG_LINES=("releases:" "  simulator: {}")
for line in "${BACKEND_LINES[@]}" "$APP_IMPORT" "$APP_FEATURES" "$ADD_BACKEND" "$ADD_APP" "${CONFIG_LINES[@]}"; do
  grep -qF -- "$line" README.md || { echo "install check: README.md no longer says: $line"; exit 1; }
done

log "Install check: building and packing the plugin family"
$YARN tsc >"$SCRATCH/tsc.log" 2>&1 || { cat "$SCRATCH/tsc.log"; exit 1; }
mkdir -p "$SCRATCH/packs"
PACKAGES=(releases-common releases-node releases-core releases-backend releases-backend-module-simulator releases-backend-module-prometheus
  releases-backend-module-haproxy releases-backend-module-chaos releases-backend-module-kubernetes scaffolder-backend-module-releases releases)
for p in "${PACKAGES[@]}"; do
  (cd "plugins/$p" && $YARN backstage-cli package build >"$SCRATCH/build-$p.log" 2>&1 &&
    $YARN pack --out "$SCRATCH/packs/$p.tgz" >>"$SCRATCH/build-$p.log" 2>&1) ||
    { tail -30 "$SCRATCH/build-$p.log"; exit 1; }
  name=$(tar xzf "$SCRATCH/packs/$p.tgz" -O package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0)).name')
  echo "packed: $name ($(du -k "$SCRATCH/packs/$p.tgz" | cut -f1) kB, $(tar tzf "$SCRATCH/packs/$p.tgz" | wc -l) files)"
done

log "Install check: a scratch Backstage in $SCRATCH/app"
cp -r test/install/scratch "$SCRATCH/app"
cp -r packages/app/public "$SCRATCH/app/packages/app/public"
# Seeded with this repository's lockfile so the same Backstage versions resolve without new lookups.
cp yarn.lock "$SCRATCH/app/yarn.lock"
printf 'nodeLinker: node-modules\nenableTelemetry: false\n' >"$SCRATCH/app/.yarnrc.yml"
sed -i "s/\${SCRATCH_PORT}/$PORT/g" "$SCRATCH/app/app-config.yaml"
cd "$SCRATCH/app"
# The packages are not on a registry here: `yarn add` of a version resolves to the packed tarballs.
node -e '
  const fs = require("fs");
  const root = JSON.parse(fs.readFileSync("package.json"));
  for (const file of fs.readdirSync(process.argv[1])) {
    const name = JSON.parse(require("child_process").execSync(`tar xzf ${process.argv[1]}/${file} -O package/package.json`)).name;
    root.resolutions[name] = `file:${process.argv[1]}/${file}`;
  }
  fs.writeFileSync("package.json", JSON.stringify(root, null, 2));
' "$SCRATCH/packs"
add() { # what `yarn --cwd <workspace> add <packages>` writes, at the packed version
  node -e '
    const fs = require("fs");
    const [dir, ...names] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(`${dir}/package.json`));
    for (const name of names) pkg.dependencies[name] = "^0.1.0";
    fs.writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2));
  ' "$@"
}
add packages/backend ${ADD_BACKEND#yarn --cwd packages/backend add }
add packages/app ${ADD_APP#yarn --cwd packages/app add }
for line in "${BACKEND_LINES[@]}"; do
  sed -i "s|^backend.start();|$line\nbackend.start();|" packages/backend/src/index.ts
done
sed -i "1a $APP_IMPORT" packages/app/src/App.tsx
sed -i "s|features: \[catalogPlugin\],|$APP_FEATURES|" packages/app/src/App.tsx
printf '%s\n' "${CONFIG_LINES[@]}" >>app-config.yaml

log "Install check: yarn install in the scratch app"
started=$(date +%s)
$YARN install --no-immutable >"$SCRATCH/install.log" 2>&1 || { tail -40 "$SCRATCH/install.log"; exit 1; }
echo "scratch install: $(($(date +%s) - started)) s"
for name in plugin-releases-common plugin-releases-node plugin-releases-core plugin-releases-backend plugin-releases-backend-module-simulator plugin-releases; do
  dir=node_modules/@release-pilot/$name
  [ -f "$dir/dist/index.d.ts" ] && ! grep -q '"private"' "$dir/package.json" ||
    { echo "install check: $dir is not the packed package (dist/index.d.ts)"; exit 1; }
done

log "Install check: the risk model's speed from the packed package (yarn bench:risk --package)"
node "$ROOT/packages/cli/bin/bench-risk" --package "$SCRATCH/app/node_modules/@release-pilot/plugin-releases-core" |
  sed 's/^/packed bench:risk: /'

log "Install check: building the scratch app's frontend"
started=$(date +%s)
(cd packages/app && $YARN backstage-cli package build >"$SCRATCH/app-build.log" 2>&1) || { tail -40 "$SCRATCH/app-build.log"; exit 1; }
echo "scratch frontend build: $(($(date +%s) - started)) s"

log "Install check: starting the scratch backend on :$PORT"
set -m
(cd packages/backend && exec $YARN backstage-cli package start --config ../../app-config.yaml --config ../../app-config.check.yaml) \
  >"$SCRATCH/backend.log" 2>&1 &
BACKEND_PID=$!
set +m
cd "$ROOT"
if ! SCRATCH_BASE="http://localhost:$PORT" node test/install/check.mjs; then
  grep -iE 'error|warn' "$SCRATCH/backend.log" | tail -20
  exit 1
fi
