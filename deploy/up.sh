#!/usr/bin/env bash
# Bring the cluster up in order, waiting on each part (podman runs no health checks without systemd):
#   postgres (pg_isready), redis (redis-cli ping), opensearch (HTTP, cluster yellow)
#   -> migrate ('heritage db-upgrade', once) -> web1, web2, worker1, worker2, sweeper, proxy
#   -> the proxy's https://127.0.0.1:$HERITAGE_HTTPS_PORT/api/v1/health
# Builds no images: run deploy/images.sh first. Settings: deploy/env.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
READY_TIMEOUT_S=${READY_TIMEOUT_S:-180}

# every container created, none started: podman-compose 1.0.3's 'run' and 'up SERVICE' would create
# (and collide with) the others, and would not pass the migration's exit code on
compose up --no-start >/dev/null 2>&1
podman start "$(container postgres)" "$(container redis)" "$(container opensearch)" >/dev/null
wait_for postgres "$READY_TIMEOUT_S" podman exec "$(container postgres)" pg_isready -q -h 127.0.0.1 -U heritage -d heritage
wait_for redis "$READY_TIMEOUT_S" sh -c "podman exec $(container redis) redis-cli ping | grep -q PONG"
wait_for opensearch "$READY_TIMEOUT_S" \
  curl -fsS "http://127.0.0.1:$HERITAGE_OPENSEARCH_PORT/_cluster/health?wait_for_status=yellow&timeout=1s"
log "migrating the catalogue"
podman start --attach "$(container migrate)" >&2 || { log "migration failed"; exit 1; }
podman start "$(container web1)" "$(container web2)" "$(container worker1)" "$(container worker2)" \
  "$(container sweeper)" "$(container proxy)" >/dev/null
wait_for proxy "$READY_TIMEOUT_S" curl -fsS -k "https://127.0.0.1:$HERITAGE_HTTPS_PORT/api/v1/health"
log "the portal is at https://$HERITAGE_TLS_NAME:$HERITAGE_HTTPS_PORT/ (self-signed certificate unless one is mounted)"
