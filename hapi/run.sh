#!/usr/bin/env bash
# Run the HAPI FHIR JPA server of hapi/pom.xml (built by `make hapi`) without Docker.
#
#   hapi/run.sh serve             in the foreground at http://localhost:${HAPI_PORT:-8080}/fhir
#   hapi/run.sh test [PYTEST...]  on a free port: the contract suite and the simplified-API
#                                 tests against it, then stop it
#
# The database is the one SPRING_DATASOURCE_URL, _USERNAME and _PASSWORD name (PostgreSQL,
# as in docker-compose.yml); without SPRING_DATASOURCE_URL, an in-memory H2 database.
# hapi/application.yaml supplies the HAPI settings, exactly as it does for the compose image.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=hapi/target/hapi-fhir-server.jar
READY_TIMEOUT_SECONDS=${HAPI_READY_TIMEOUT_SECONDS:-300}
read -r -a JAVA_OPTS <<<"${HAPI_JAVA_OPTS:--Xmx2g}"
export SPRING_CONFIG_ADDITIONAL_LOCATION="file:$PWD/hapi/application.yaml"

hapi_pid=""

start_hapi() { # port log_file [setting overrides, as --key=value]
  if [ ! -f "$JAR" ]; then
    echo "$JAR is missing: build it with \`make hapi\`." >&2
    exit 1
  fi
  echo "Starting HAPI FHIR on port $1 (${SPRING_DATASOURCE_URL:-in-memory H2}; log: $2)…"
  HAPI_PORT="$1" java "${JAVA_OPTS[@]}" -jar "$JAR" "${@:3}" >"$2" 2>&1 &
  hapi_pid=$!
}

stop_hapi() {
  if [ -n "$hapi_pid" ] && kill -0 "$hapi_pid" 2>/dev/null; then
    kill "$hapi_pid"
    wait "$hapi_pid" 2>/dev/null || true
  fi
  hapi_pid=""
}

wait_until_ready() { # base_url log_file
  local started=$SECONDS
  until curl -sf -o /dev/null -H "Accept: application/fhir+json" "$1/metadata"; do
    if ! kill -0 "$hapi_pid" 2>/dev/null; then
      echo "HAPI FHIR stopped before it answered; the end of its log ($2):" >&2
      tail -n 40 "$2" >&2
      exit 1
    fi
    if ((SECONDS - started > READY_TIMEOUT_SECONDS)); then
      echo "HAPI FHIR did not answer $1/metadata within ${READY_TIMEOUT_SECONDS}s; see $2" >&2
      exit 1
    fi
    sleep 1
  done
  echo "HAPI FHIR R4 ready at $1 (metadata answered after $((SECONDS - started))s)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

serve() {
  local port=${HAPI_PORT:-8080} log=hapi/target/hapi.log
  trap stop_hapi EXIT
  trap 'exit 130' INT TERM
  start_hapi "$port" "$log"
  wait_until_ready "http://localhost:$port/fhir" "$log"
  echo "Stop it with Ctrl-C."
  wait "$hapi_pid"
}

run_tests() { # pytest arguments
  # A port of its own, so the run never talks to another server left on 8080.
  local port=${HAPI_TEST_PORT:-$(free_port)} log=hapi/target/hapi-test.log
  local base="http://localhost:$port/fhir"
  trap stop_hapi EXIT
  # The simplified-API tests empty the server before each test, as each of them starts on a
  # fresh embedded store otherwise: HAPI's `$expunge` of everything needs both settings.
  start_hapi "$port" "$log" --hapi.fhir.expunge_enabled=true --hapi.fhir.allow_multiple_delete=true
  wait_until_ready "$base" "$log"
  FHIR_CONTRACT_URL="$base" TEST_FHIR_BASE_URL="$base" \
    .venv/bin/python -m pytest tests/contract tests/api tests/e2e "$@"
}

case "${1:-}" in
  serve) serve ;;
  test) run_tests "${@:2}" ;;
  *)
    echo "usage: $0 serve | test [pytest arguments]" >&2
    exit 2
    ;;
esac
