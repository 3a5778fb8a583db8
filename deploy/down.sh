#!/usr/bin/env bash
# Take the cluster down: deploy/down.sh keeps the volumes (catalogue, store, queue, index);
# deploy/down.sh --volumes removes them too (everything the stack held is lost).
set -euo pipefail
source "$(dirname "$0")/env.sh"
compose down >/dev/null 2>&1 || true
# what podman-compose may leave behind (a container of 'run', the pod)
for c in $(podman ps -a --format '{{.Names}}' | grep -E "^${COMPOSE_PROJECT_NAME}_" || true); do
  podman rm -f "$c" >/dev/null
done
podman pod rm -f "pod_$COMPOSE_PROJECT_NAME" >/dev/null 2>&1 || true
podman network rm -f "${COMPOSE_PROJECT_NAME}_default" >/dev/null 2>&1 || true
if [ "${1:-}" = "--volumes" ]; then
  for v in store pgdata redisdata osdata; do
    podman volume rm -f "${COMPOSE_PROJECT_NAME}_$v" >/dev/null 2>&1 || true
  done
  rm -f "$ROOT/.cache/deploy/$COMPOSE_PROJECT_NAME-db-password"
  log "stack $COMPOSE_PROJECT_NAME and its volumes removed"
else
  log "stack $COMPOSE_PROJECT_NAME stopped (volumes kept)"
fi
