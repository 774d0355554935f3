# Start a PostgreSQL cluster of our own for the tests, installing Debian's packages when
# missing. Sourced by .ci/run; sets TEST_POSTGRES_URL, PG_CLUSTER and PG_PORT.

PG_CLUSTER=fhirtest
PG_PORT=${PG_PORT:-54329}
PG_USER=fhir_test
PG_PASSWORD=fhir_test
PG_DATABASE=fhir_test

_pg_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1
}

start_test_postgres() {
  if ! _pg_installed; then
    echo "Installing PostgreSQL from Debian's packages…"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      return 1
    fi
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$PG_CLUSTER"; then
    pg_createcluster "$version" "$PG_CLUSTER" -p "$PG_PORT" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  fi
  PG_PORT=$(pg_lsclusters -h | awk -v c="$PG_CLUSTER" '$2 == c {print $3}')
  # Tests want speed, not durability: this cluster holds throw-away data only.
  pg_conftool "$version" "$PG_CLUSTER" set fsync off >/dev/null
  pg_conftool "$version" "$PG_CLUSTER" set synchronous_commit off >/dev/null
  pg_conftool "$version" "$PG_CLUSTER" set full_page_writes off >/dev/null
  pg_ctlcluster "$version" "$PG_CLUSTER" start 2>/dev/null || pg_ctlcluster "$version" "$PG_CLUSTER" status >/dev/null
  local psql=(runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt)
  for _ in $(seq 1 30); do "${psql[@]}" -c "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    "${psql[@]}" -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'"
  fi
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != "1" ]; then
    "${psql[@]}" -c "CREATE DATABASE $PG_DATABASE OWNER $PG_USER"
  fi
  TEST_POSTGRES_URL="postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE"
}
