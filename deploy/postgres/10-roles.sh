#!/bin/sh
# Run once by the postgres image when its data volume is new (docker-entrypoint-initdb.d): the two roles of
# dropout_ledger.database_roles and the ledger's database, owned by the owner.
#   ledger_owner  runs migrations (the "migrate" service); owns every table, trigger and function
#   ledger_app    serves requests (web, worker, beat); no superuser, owns nothing, may not alter a table
# The image's own superuser (POSTGRES_USER) is left for administration and is used by nothing else.
set -eu

psql --variable=ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set owner_password="$LEDGER_OWNER_PASSWORD" --set app_password="$LEDGER_APP_PASSWORD" <<'SQL'
CREATE ROLE ledger_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE ledger_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE dropout_ledger OWNER ledger_owner;
SQL
