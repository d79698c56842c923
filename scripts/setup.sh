# Sourced by start.sh and test.sh: installs what a fresh machine is missing. Safe to run again.

YARN="node $(pwd)/.yarn/releases/yarn-4.13.0.cjs"

log() { printf '\033[1m[release-pilot]\033[0m %s (at %d:%02d)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) >&2; }

apt_install() {
  # Installs Debian packages that are missing (as root, or through sudo).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_node() {
  if ! command -v node >/dev/null; then
    log "Node.js 20 or newer is needed (https://nodejs.org); it was not found on PATH."
    exit 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    log "Node.js 20 or newer is needed; found $(node --version)."
    exit 1
  fi
}

ensure_dependencies() {
  ensure_node
  # better-sqlite3 compiles from source here (its prebuilt binaries come from GitHub).
  command -v g++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null ||
    apt_install g++ make python3
  if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
  # Use the npm registry this machine is configured for, whatever it is.
  local registry
  registry=$(cd / && npm config get registry 2>/dev/null | sed 's#/$##')
  [ -n "$registry" ] && export YARN_NPM_REGISTRY_SERVER="$registry"
  if [ ! -f node_modules/.yarn-state.yml ] || [ yarn.lock -nt node_modules/.yarn-state.yml ] ||
    [ ! -d node_modules/better-sqlite3/build/Release ]; then
    log "Installing dependencies (yarn install --immutable; a few minutes the first time)"
    $YARN install --immutable >/tmp/release-pilot-install.log 2>&1 || {
      tail -40 /tmp/release-pilot-install.log
      log "yarn install failed; full log in /tmp/release-pilot-install.log"
      exit 1
    }
  fi
}
