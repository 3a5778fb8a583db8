# Sourced by up.sh, down.sh and smoke.sh: the stack's name and its settings, each overridable.
DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$DEPLOY_DIR")
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-heritage}
export HERITAGE_HTTPS_BIND=${HERITAGE_HTTPS_BIND:-127.0.0.1}      # 0.0.0.0 to serve the network
export HERITAGE_HTTPS_PORT=${HERITAGE_HTTPS_PORT:-8443}
export HERITAGE_OPENSEARCH_PORT=${HERITAGE_OPENSEARCH_PORT:-19200}  # published on 127.0.0.1 only
export HERITAGE_TLS_NAME=${HERITAGE_TLS_NAME:-localhost}
export HERITAGE_PUBLIC_URL=${HERITAGE_PUBLIC_URL:-}
export HERITAGE_WORKER_CONCURRENCY=${HERITAGE_WORKER_CONCURRENCY:-1}  # per worker container
export OPENSEARCH_HEAP=${OPENSEARCH_HEAP:-512m}
export HERITAGE_STUCK_AFTER_S=${HERITAGE_STUCK_AFTER_S:-}  # empty: the platform's default (300 s)
export HERITAGE_SWEEP_EVERY_S=${HERITAGE_SWEEP_EVERY_S:-30}  # the sweeper's pause between sweeps
if [ -z "${HERITAGE_DB_PASSWORD:-}" ]; then
  pw_file=$ROOT/.cache/deploy/$COMPOSE_PROJECT_NAME-db-password
  if [ ! -s "$pw_file" ]; then
    mkdir -p "$(dirname "$pw_file")"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$pw_file")
  fi
  HERITAGE_DB_PASSWORD=$(cat "$pw_file")
fi
export HERITAGE_DB_PASSWORD

compose() { podman-compose -p "$COMPOSE_PROJECT_NAME" -f "$DEPLOY_DIR/compose.yaml" "$@"; }
container() { echo "${COMPOSE_PROJECT_NAME}_$1_1"; }  # podman-compose's container name of a service
log() { echo "$(basename "$0"): $*" >&2; }

# wait_for SERVICE TIMEOUT_S COMMAND…: run COMMAND every second until it succeeds; give up at once
# when the service's container has stopped (its last log lines are shown)
wait_for() {
  local name=$1 timeout_s=$2 start=$SECONDS state
  shift 2
  until "$@" >/dev/null 2>&1; do
    state=$(podman inspect -f '{{.State.Status}}' "$(container "$name")" 2>/dev/null || echo missing)
    if [ "$state" != running ]; then
      log "$name is $state"; podman logs --tail 30 "$(container "$name")" >&2 2>&1 || true; return 1
    fi
    if (( SECONDS - start >= timeout_s )); then log "$name not ready after ${timeout_s}s"; return 1; fi
    sleep 1
  done
  log "$name ready after $(( SECONDS - start ))s"
}
