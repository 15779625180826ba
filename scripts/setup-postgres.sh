#!/usr/bin/env bash
# Native Postgres + pgvector on Debian, for the test suite and for production-like runs.
#
# Idempotent; run as root. It
#   1. installs PostgreSQL from Debian if no server is installed,
#   2. starts the cluster if it is down,
#   3. installs pgvector (>= 0.8, for HNSW iterative index scans) for the running server's major
#      version: Debian's binary postgresql-<major>-pgvector where this release has a recent
#      enough one, otherwise Debian's `pgvector` source package built against
#      postgresql-server-dev-<major>. The source is fetched with apt from the mirror this machine
#      already uses, through a private sources list: the system's apt configuration is untouched.
#   4. creates the database (default `lookalike_test`) and prints the DATABASE_URL to use.
#
# Environment: PGVECTOR_MIN (default 0.8.0), PGVECTOR_SOURCE_SUITE (default trixie),
#              LOOKALIKE_TEST_DB (default lookalike_test), PGHOST/PGPORT (127.0.0.1:5432).
set -euo pipefail

PGVECTOR_MIN=${PGVECTOR_MIN:-0.8.0}
SOURCE_SUITE=${PGVECTOR_SOURCE_SUITE:-trixie}
DB_NAME=${LOOKALIKE_TEST_DB:-lookalike_test}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup-postgres] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages)"
command -v apt-get >/dev/null || die "this script needs a Debian-based system (apt-get)"

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# 1. Server.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_update_once
  log "installing postgresql"
  apt-get install -y -qq postgresql >&2
fi

# 2. Cluster up. pg_lsclusters columns: version cluster port status ...
cluster=$(pg_lsclusters --no-header | awk -v port="$PGPORT" '$3 == port { print $1" "$2" "$4; exit }')
[ -n "$cluster" ] || cluster=$(pg_lsclusters --no-header | awk 'NR == 1 { print $1" "$2" "$4 }')
[ -n "$cluster" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty); create one with pg_createcluster"
read -r PG_MAJOR PG_CLUSTER PG_STATUS <<<"$cluster"
if [ "$PG_STATUS" != "online" ]; then
  log "starting cluster $PG_MAJOR/$PG_CLUSTER"
  pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$PG_CLUSTER" start
fi
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
psql_admin() { PGOPTIONS="-c client_min_messages=warning" runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt -p "$PGPORT" "$@"; }
for _ in $(seq 1 30); do psql_admin -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
psql_admin -c 'select 1' >/dev/null || die "PostgreSQL $PG_MAJOR/$PG_CLUSTER does not answer on port $PGPORT"

# 3. pgvector.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
installed_pgvector() {
  local control
  control=$("$PG_CONFIG" --sharedir)/extension/vector.control
  [ -f "$control" ] && sed -n "s/^default_version = '\(.*\)'/\1/p" "$control"
}

current=$(installed_pgvector || true)
if [ -n "$current" ] && version_ge "$current" "$PGVECTOR_MIN"; then
  log "pgvector $current already installed for PostgreSQL $PG_MAJOR"
else
  apt_update_once
  candidate=$(apt-cache policy "postgresql-$PG_MAJOR-pgvector" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  candidate=${candidate%%-*}
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && version_ge "$candidate" "$PGVECTOR_MIN"; then
    log "installing Debian's postgresql-$PG_MAJOR-pgvector $candidate"
    apt-get install -y -qq "postgresql-$PG_MAJOR-pgvector" >&2
  else
    log "no postgresql-$PG_MAJOR-pgvector >= $PGVECTOR_MIN in this release; building Debian's pgvector source package ($SOURCE_SUITE)"
    apt-get install -y -qq "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev >&2
    # The mirror this machine already uses (first deb.debian.org-style URI in its sources).
    mirror=$(grep -rhoE '^(URIs:|deb) *\S*https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
      | grep -oE 'https?://[^ ]+' | grep -v security | head -n1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    work=$(mktemp -d /tmp/pgvector-build.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} $SOURCE_SUITE main" >"$work/sources.list"
    apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
                 -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
    mkdir -p "$work/cache/archives/partial"
    # Let apt's unprivileged downloader write there (otherwise it warns and downloads as root).
    if id _apt >/dev/null 2>&1; then chown -R _apt:root "$work"; chmod 0755 "$work"; fi
    apt-get "${apt_private[@]}" update -qq >&2
    (cd "$work" && apt-get "${apt_private[@]}" source --download-only pgvector >&2)
    dsc=$(ls "$work"/pgvector_*.dsc | head -n1)
    [ -n "$dsc" ] || die "apt could not fetch Debian's pgvector source from $mirror ($SOURCE_SUITE)"
    # apt checked the files against the archive-signed Sources index; dpkg-source checks them
    # against the .dsc again while unpacking.
    (cd "$work" && dpkg-source -x "$dsc" src >&2)
    # OPTFLAGS= : portable code (no -march=native), as Debian builds it.
    make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS= >&2
    make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS= install >&2
    log "installed pgvector $(installed_pgvector) for PostgreSQL $PG_MAJOR from $(basename "$dsc")"
  fi
fi

# 4. Database (extensions are created by the migrations).
if ! psql_admin -c "select 1 from pg_database where datname = '$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  psql_admin -c "create database \"$DB_NAME\""
fi
# Prove the extension loads in this server; the migrations create it with IF NOT EXISTS too.
psql_admin -d "$DB_NAME" -c "create extension if not exists vector" >/dev/null
log "pgvector $(psql_admin -d "$DB_NAME" -c "select extversion from pg_extension where extname = 'vector'") active in $DB_NAME"

echo "postgresql://postgres@$PGHOST:$PGPORT/$DB_NAME"
