# Shared helpers for scripts/run.sh, scripts/test.sh and friends. Sourced.
# shellcheck shell=bash

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PRIVATE_PG_DIR="$REPO_ROOT/.data/postgres"
PRIVATE_PG_PORT="${GATEHOUSE_PRIVATE_PG_PORT:-5433}"
# Prometheus and promtool, for the monitoring tests (scripts/setup.sh --test).
export PROMETHEUS_HOME="${PROMETHEUS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/prometheus}"
# moto's S3-compatible server, for the Terraform S3 source tests
# (scripts/setup.sh --test).
export MOTO_HOME="${MOTO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/moto}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_install() {
  log "installing Debian packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$dir" ] && echo "$dir"
}

# Sets PG_ADMIN_URL (a server we may create databases on), choosing, in order:
# $DATABASE_URL's server; a server answering on 127.0.0.1:5432; a private
# cluster under .data/postgres started on port $PRIVATE_PG_PORT.
ensure_postgres() {
  command -v psql >/dev/null && command -v pg_isready >/dev/null || apt_install postgresql-client
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_ADMIN_URL="${DATABASE_URL%/*}/postgres"
    pg_isready -q -d "$DATABASE_URL" || die "DATABASE_URL is set but its server does not answer"
    return
  fi
  if [ "${GATEHOUSE_PRIVATE_PG:-}" != 1 ] && pg_isready -q -h 127.0.0.1 -p 5432 \
      && psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return
  fi
  start_private_postgres
  PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PRIVATE_PG_PORT/postgres"
}

start_private_postgres() {
  local bin; bin=$(pg_bin) || true
  if [ -z "$bin" ]; then apt_install postgresql; bin=$(pg_bin); fi
  [ -n "$bin" ] || die "PostgreSQL server binaries not found after installing postgresql"
  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root; the Debian package creates this user.
    id postgres >/dev/null 2>&1 || apt_install postgresql
    run_as=(runuser -u postgres --)
  fi
  mkdir -p "$PRIVATE_PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PRIVATE_PG_DIR" "$REPO_ROOT/.data"
  if [ ! -f "$PRIVATE_PG_DIR/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster in .data/postgres"
    "${run_as[@]}" "$bin/initdb" -D "$PRIVATE_PG_DIR" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$PRIVATE_PG_PORT"; then
    log "starting the private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT"
    "${run_as[@]}" "$bin/pg_ctl" -D "$PRIVATE_PG_DIR" -l "$PRIVATE_PG_DIR/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PRIVATE_PG_PORT -k /tmp" start >/dev/null
  fi
}

psql_admin() { psql "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 "$@"; }

database_url_for() { echo "${PG_ADMIN_URL%/*}/$1"; }

# Creates database $1 unless it exists.
ensure_database() {
  psql_admin -Atqc "select 1 from pg_database where datname = '$1'" | grep -q 1 \
    || psql_admin -q -c "CREATE DATABASE \"$1\""
}

# The two database roles Gatehouse runs with (docs/operations/database-roles.md):
# gatehouse_owner owns the schema and runs the migrations; gatehouse_app
# serves, with rights on rows only (the audit log: insert and read).
ensure_roles() {
  psql_admin -q <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_owner') THEN
    CREATE ROLE gatehouse_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
    CREATE ROLE gatehouse_app LOGIN;
  END IF;
END
$$;
SQL
}

# Creates database $1 owned by gatehouse_owner (a database another role
# owns is made anew: demo data is re-seeded at every start), and exports
# DATABASE_URL (gatehouse_app) and GATEHOUSE_MIGRATION_DATABASE_URL
# (gatehouse_owner) for it.
use_least_privilege_database() {
  local db=$1 owner
  ensure_roles
  owner=$(psql_admin -Atqc "select pg_get_userbyid(datdba) from pg_database where datname = '$db'")
  if [ -n "$owner" ] && [ "$owner" != gatehouse_owner ]; then
    log "database $db belongs to $owner: making it anew for gatehouse_owner"
    psql_admin -q -c "DROP DATABASE \"$db\" WITH (FORCE)"
    owner=
  fi
  [ -n "$owner" ] || psql_admin -q -c "CREATE DATABASE \"$db\" OWNER gatehouse_owner"
  local base="${PG_ADMIN_URL%/*}"
  base="${base#postgres://}"; base="${base#*@}"
  export DATABASE_URL="postgres://gatehouse_app@$base/$db"
  export GATEHOUSE_MIGRATION_DATABASE_URL="postgres://gatehouse_owner@$base/$db"
}

