#!/usr/bin/env bash
# Regenerates .sqlx/ (the query metadata that lets the server build with
# SQLX_OFFLINE=true) against a scratch database migrated from migrations/.
# Run it after changing a query or a migration, and commit .sqlx/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_postgres
db=gatehouse_sqlx_prepare
url=$(database_url_for "$db")
psql_admin -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
for f in migrations/*.sql; do
  psql "$url" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done
rm -rf .sqlx && mkdir -p .sqlx
# The macros only re-run when their crate recompiles.
touch server/src/lib.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$PWD/.sqlx" DATABASE_URL="$url" \
  cargo check -p server --all-targets --quiet
psql_admin -q -c "DROP DATABASE IF EXISTS $db"
echo "sqlx-prepare: $(ls .sqlx | wc -l) queries in .sqlx/"
