#!/usr/bin/env bash
# Installs what Gatehouse needs to build, idempotently. Nothing is downloaded
# outside crates.io, npm and Debian's packages; cargo-leptos is given every
# tool it would otherwise fetch.
#   scripts/setup.sh          build tools
#   scripts/setup.sh --test   build tools and the browser for end2end
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CARGO_LEPTOS_VERSION=0.3.6   # 0.3.7+ needs a newer rustc than 1.95
CARGO_DENY_VERSION=0.20.2    # licences, bans and sources in the test command

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
command -v cc >/dev/null || apt_install build-essential
command -v pkg-config >/dev/null || apt_install pkg-config
command -v curl >/dev/null || apt_install curl
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    log "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 14 minutes on 2 cores, once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wb_version" ] || die "wasm-bindgen not found in Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (matches Cargo.lock)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm tooling (tailwindcss, wasm-opt, Playwright)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = --test ] && [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  log "installing cargo-deny $CARGO_DENY_VERSION (about 7 minutes on 2 cores, once)"
  cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
fi

if [ "${1:-}" = --test ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# The simulator is checked against CodePipeline's published service model,
# which botocore (PyPI) ships; Debian's python3-botocore is too old for it.
if [ "${1:-}" = --test ] && ! python3 -c 'import botocore.loaders; botocore.loaders.Loader().load_service_model("codepipeline", "service-2")["shapes"]["StageState"]["members"]["inboundExecutions"]' >/dev/null 2>&1; then
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  log "installing botocore (CodePipeline's service model, for the simulator's model test)"
  python3 -m pip install --quiet --user 'botocore>=1.35' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'botocore>=1.35'
fi

# The alert rules in config/monitoring are checked by Prometheus itself:
# promtool and a Prometheus server scraping Gatehouse in the tests. They are
# unpacked from Debian's prometheus package (no service is installed).
if [ "${1:-}" = --test ] && [ ! -x "$PROMETHEUS_HOME/usr/bin/promtool" ]; then
  log "unpacking Prometheus and promtool from Debian's prometheus package into $PROMETHEUS_HOME"
  deb_dir=$(mktemp -d)
  chmod 777 "$deb_dir"
  (cd "$deb_dir" && apt-get download prometheus >/dev/null 2>&1) \
    || { as_root apt-get update -qq; (cd "$deb_dir" && apt-get download prometheus >/dev/null 2>&1); } \
    || die "could not download Debian's prometheus package"
  mkdir -p "$PROMETHEUS_HOME"
  dpkg-deb -x "$deb_dir"/prometheus_*.deb "$PROMETHEUS_HOME"
  rm -rf "$deb_dir"
fi

# Terraform states in S3 are tested against moto's S3-compatible server,
# installed from PyPI into its own virtual environment.
if [ "${1:-}" = --test ] && [ ! -x "$MOTO_HOME/bin/moto_server" ]; then
  log "installing moto's S3 server from PyPI into $MOTO_HOME"
  python3 -m venv "$MOTO_HOME" 2>/dev/null \
    || { as_root apt-get install -y -qq python3-venv >/dev/null; rm -rf "$MOTO_HOME"; python3 -m venv "$MOTO_HOME"; } \
    || die "could not make a Python virtual environment for moto"
  "$MOTO_HOME/bin/pip" install -q "moto[server]==5.1.22" || die "could not install moto from PyPI"
fi
