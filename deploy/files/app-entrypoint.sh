#!/bin/sh
# heritage-app's entry point: web | worker | sweeper | migrate | any command (heritage …, sh …).
# Runs as the unprivileged 'heritage' user; the shared store volume is made theirs on first start.
set -e
mkdir -p "$HERITAGE_DATA_DIR"
[ "$(stat -c %u "$HERITAGE_DATA_DIR")" = 990 ] || chown heritage: "$HERITAGE_DATA_DIR"
as_heritage() { exec setpriv --reuid=heritage --regid=heritage --init-groups "$@"; }
case "${1:-web}" in
  web)     shift; as_heritage python -m web --host 0.0.0.0 --port "${HERITAGE_WEB_PORT:-8080}" "$@" ;;
  worker)  shift; as_heritage python -m workers "$@" ;;
  migrate) as_heritage heritage db-upgrade ;;
  # what 'heritage serve' does between its children: requeue stuck pages, lift embargoes, flush the indexer
  sweeper) as_heritage sh -c 'while :; do heritage sweep || echo "sweep failed" >&2; sleep "${HERITAGE_SWEEP_EVERY_S:-30}"; done' ;;
  *)       as_heritage "$@" ;;
esac
