#!/usr/bin/env bash
# Smoke test of the whole cluster, for CI and by hand: build the images, bring a fresh stack up on
# loopback, then through the TLS proxy (its own certificate checked): a librarian uploads a real page,
# a worker reads it, a word of it is found, a IIIF tile of it is a JPEG. The stack and its volumes are
# always removed. Exit 0 when every check passed; prints the timings.
#
#   deploy/smoke.sh [PAGE.tif [WORD]]     default: a UNLV magazine page and "adoration"
#
# The same checks, in Python with assertions: tests/deploy/test_stack.py (pytest -m deploy).
set -euo pipefail
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-heritage-smoke}
export HERITAGE_HTTPS_PORT=${HERITAGE_HTTPS_PORT:-18444}
export HERITAGE_OPENSEARCH_PORT=${HERITAGE_OPENSEARCH_PORT:-19202}
export HERITAGE_HTTPS_BIND=127.0.0.1
source "$(dirname "$0")/env.sh"
PAGE=${1:-$ROOT/../shared/data/ocr/unlv-magazine/8071_093.3B.tif}
WORD=${2:-adoration}
READ_TIMEOUT_S=${READ_TIMEOUT_S:-300}
BASE=https://127.0.0.1:$HERITAGE_HTTPS_PORT
WORK=$(mktemp -d)
start=$SECONDS

fail() { log "FAILED: $*"; exit 1; }
cleanup() { "$DEPLOY_DIR/down.sh" --volumes >/dev/null 2>&1 || true; rm -rf "$WORK"; log "total ${SECONDS}s"; }
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

for tool in podman podman-compose mmdebstrap runc curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -f "$PAGE" ] || fail "no page at $PAGE"

"$DEPLOY_DIR/images.sh"; t_images=$SECONDS
"$DEPLOY_DIR/down.sh" --volumes >/dev/null 2>&1 || true
"$DEPLOY_DIR/up.sh"; t_up=$SECONDS
podman cp "$(container proxy):/etc/heritage-tls/cert.pem" "$WORK/cert.pem"
CURL=(curl -sS --noproxy '*' --cacert "$WORK/cert.pem" --max-time 120)

USER_NAME=smoke-librarian
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
podman exec -e HERITAGE_NEW_PASSWORD="$PASSWORD" "$(container web1)" \
  /usr/local/bin/heritage-entrypoint heritage user add "$USER_NAME" --role librarian >/dev/null

code=$("${CURL[@]}" -o "$WORK/created.json" -w '%{http_code}' -u "$USER_NAME:$PASSWORD" \
  -F "file=@$PAGE;type=image/tiff" -F title="Deployment smoke page" -F language=eng -F type=magazine \
  "$BASE/api/v1/items")
[ "$code" = 201 ] || fail "upload answered $code: $(cat "$WORK/created.json")"
item=$(json "$WORK/created.json" 'd["items"][0]["item_id"]')
log "uploaded: item $item"

deadline=$((SECONDS + READ_TIMEOUT_S))
while :; do
  "${CURL[@]}" -f -o "$WORK/item.json" -u "$USER_NAME:$PASSWORD" "$BASE/api/v1/items/$item"
  status=$(json "$WORK/item.json" '",".join(sorted({p["status"] for p in d["pages"]}))')
  [ "$status" = done ] && break
  [[ "$status" == *failed* ]] && fail "the page failed: $(cat "$WORK/item.json")"
  (( SECONDS < deadline )) || fail "the page is not read after ${READ_TIMEOUT_S}s ($status)"
  sleep 2
done
page=$(json "$WORK/item.json" 'd["pages"][0]["id"]'); t_read=$SECONDS
log "read: page $page"

"${CURL[@]}" -f -o "$WORK/search.json" -G --data-urlencode "q=$WORD" "$BASE/api/v1/search"
found=$(json "$WORK/search.json" \
  "any(h.get('page_id') == $page and any('$WORD' in s['text'].lower() and s['boxes'] for s in h.get('spans', [])) for h in d['hits'])")
[ "$found" = True ] || fail "\"$WORD\" not found on page $page: $(head -c 800 "$WORK/search.json")"
log "search: \"$WORD\" found on page $page with its word boxes"

type=$("${CURL[@]}" -f -o "$WORK/tile.jpg" -w '%{content_type}' "$BASE/iiif/image/p$page/0,0,512,512/256,/0/default.jpg")
[[ "$type" == image/jpeg* ]] || fail "the tile is $type"
[ "$(head -c 3 "$WORK/tile.jpg" | od -An -tx1 | tr -d ' ')" = ffd8ff ] || fail "the tile is not a JPEG"
log "IIIF tile: $(stat -c %s "$WORK/tile.jpg") bytes of image/jpeg"

log "PASSED: images ${t_images}s, stack up $((t_up - t_images))s, upload+read $((t_read - t_up))s"
