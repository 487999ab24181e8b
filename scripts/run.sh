#!/usr/bin/env bash
# Builds and starts Gatehouse on http://127.0.0.1:3000 (demo mode unless
# GATEHOUSE_MODE=real). Installs what is missing first, and finds or starts
# PostgreSQL: $DATABASE_URL, else a server on 127.0.0.1:5432, else a private
# cluster under .data/postgres. Without $DATABASE_URL it serves as the
# least-privileged role gatehouse_app; gatehouse_owner migrates.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/setup.sh
source scripts/env.sh
ensure_postgres
if [ -z "${DATABASE_URL:-}" ]; then
  use_least_privilege_database gatehouse
fi
# Browsers always get the release-optimised islands bundle. The server is a
# debug build unless GATEHOUSE_RELEASE=1 (a release server build takes a
# long while on a small machine; the README says how long).
log "building the browser bundle (cargo leptos build --release --frontend-only)"
cargo leptos build --release --frontend-only
profile=()
[ "${GATEHOUSE_RELEASE:-}" = 1 ] && profile=(--release)
log "building the server (cargo build ${profile[*]:-} --bin gatehouse)"
cargo build -p server --bin gatehouse "${profile[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps | node -pe 'JSON.parse(require("fs").readFileSync(0)).target_directory')
bin="$target_dir/$([ ${#profile[@]} -gt 0 ] && echo release || echo debug)/gatehouse"
export GATEHOUSE_BIND="${GATEHOUSE_BIND:-127.0.0.1:3000}"
export GATEHOUSE_SITE_ROOT="${GATEHOUSE_SITE_ROOT:-$REPO_ROOT/target/site}"
log "starting Gatehouse on http://$GATEHOUSE_BIND (mode: ${GATEHOUSE_MODE:-demo})"
exec "$bin" serve
