# A fresh PostgreSQL database for HAPI FHIR on the test cluster of .ci/postgres.sh, sourced by
# .ci/run after start_test_postgres; exports the SPRING_DATASOURCE_* variables that
# `make hapi-test` hands to the server, as docker-compose.yml does for the image.

HAPI_PG_DATABASE=hapi_test

start_hapi_test_database() {
  local psql=(runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt)
  # Each run starts on an empty schema, so no earlier run's resources can satisfy a search.
  "${psql[@]}" -c "DROP DATABASE IF EXISTS $HAPI_PG_DATABASE" &&
    "${psql[@]}" -c "CREATE DATABASE $HAPI_PG_DATABASE OWNER $PG_USER" || return 1
  export SPRING_DATASOURCE_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/$HAPI_PG_DATABASE"
  export SPRING_DATASOURCE_USERNAME="$PG_USER"
  export SPRING_DATASOURCE_PASSWORD="$PG_PASSWORD"
}
