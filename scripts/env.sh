# Environment for every cargo and cargo-leptos call. Sourced after lib.sh.
# shellcheck shell=bash
# cargo-leptos looks for tailwindcss, wasm-bindgen and wasm-opt on PATH
# before it would download them.
export PATH="$REPO_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Builds never need a database: queries are checked against .sqlx/.
export SQLX_OFFLINE=true
