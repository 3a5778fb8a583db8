#!/bin/sh
# First start: initdb, a password-protected role and database, connections from the container network.
set -e
: "${POSTGRES_USER:=heritage}" "${POSTGRES_DB:=heritage}" "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres: "$(dirname "$PGDATA")" /run/postgresql
chmod 700 "$PGDATA"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && printf '%s' "$POSTGRES_PASSWORD" > "$pwfile" && chown postgres "$pwfile"
  as_pg initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
max_connections = ${POSTGRES_MAX_CONNECTIONS:-200}
shared_buffers = ${POSTGRES_SHARED_BUFFERS:-256MB}
CONF
  as_pg postgres --single -D "$PGDATA" -j postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
  echo "heritage-postgres: cluster made in $PGDATA" >&2
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA"
