# Shared steps of the README's two commands (sourced, not run): enter the checkout,
# install npm packages when the lock file changed, install the Debian prerequisites.
set -euo pipefail
KEEL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$KEEL_ROOT"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

step() { printf '\n== %s\n' "$*"; }

# npm ci only when node_modules was not installed from this exact package-lock.json.
ensure_npm_packages() {
  local stamp=node_modules/.keel-lock-sha want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "npm packages up to date"
    return
  fi
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
}

ensure_debian_packages() {
  step "Debian prerequisites"
  bash tools/prereqs/install.sh
}
