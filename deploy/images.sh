#!/usr/bin/env bash
# Build the cluster's images with rootful podman, from Debian's packages and PyPI only
# (no image registry is reachable from these machines).
#
#   deploy/images.sh     build the images; the base image, the dependency wheels, the jars and
#                        podman's layers are cached, so a second run takes seconds
#
# Stages:
#   1. base_image      heritage-base:bookworm  mmdebstrap (minbase) | podman import, once
#   2. wheelhouse      .cache/wheelhouse       deps/: the dependencies' wheels from PyPI, pinned to the
#                                              venv's versions (3D stack left out); project/: the wheel
#   3. opensearch_jars .cache/opensearch/lib   scripts/opensearch.sh fetch (Maven Central)
#   4. project images  heritage-app, heritage-proxy, heritage-postgres, heritage-redis,
#                      heritage-opensearch     podman build from deploy/Containerfile.*
#
# Needs: podman, runc, mmdebstrap (see the report / scripts/setup.sh), /work/main/.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE_TAG=heritage-base:bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
WHEELHOUSE=$ROOT/.cache/wheelhouse
PY=${HERITAGE_PYTHON:-$ROOT/.venv/bin/python}
# the 3D stack is left out of the cluster's web/worker image (open3d alone installs ~1 GB);
# monuments' 3D builds run on a machine with the full venv
LEAVE_OUT=${HERITAGE_IMAGE_LEAVE_OUT:-open3d pycolmap}
# further packages for the image, beyond pyproject.toml's dependencies (none needed today)
EXTRA=${HERITAGE_IMAGE_EXTRA:-}
CONTEXT=$ROOT/.cache/deploy-context

log() { echo "images.sh: $*" >&2; }

have_image() { podman image exists "$1"; }

base_image() {
  if have_image "$BASE_TAG"; then log "$BASE_TAG cached"; return 0; fi
  command -v mmdebstrap >/dev/null || { log "mmdebstrap is not installed"; exit 3; }
  log "building $BASE_TAG with mmdebstrap"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates \
    --aptopt='APT::Install-Recommends "false"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
    bookworm - \
    "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY bookworm-security main" \
    | podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$BASE_TAG" >/dev/null
}

wheelhouse() {
  # dependencies: rebuilt only when the requirements or the venv's pins change
  mkdir -p "$WHEELHOUSE/deps"
  "$PY" - "$LEAVE_OUT" > "$WHEELHOUSE/requirements.txt" <<'PY'
import sys, tomllib
leave = set(sys.argv[1].split())
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for d in deps:
    name = d.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].split("~")[0].strip().lower()
    if name not in leave:
        print(d)
PY
  printf '%s\n' $EXTRA >> "$WHEELHOUSE/requirements.txt"
  "$PY" -m pip freeze --exclude-editable | grep -v -i -E "^($(echo "$LEAVE_OUT" | tr ' ' '|'))==| @ " \
    > "$WHEELHOUSE/constraints.txt"
  local stamp
  stamp="$WHEELHOUSE/deps/.built-$(cat "$WHEELHOUSE/requirements.txt" "$WHEELHOUSE/constraints.txt" | sha1sum | cut -c1-16)"
  if [ -f "$stamp" ]; then
    log "dependency wheels cached"
  else
    log "building the dependency wheels in $WHEELHOUSE/deps"
    rm -rf "$WHEELHOUSE/deps" && mkdir -p "$WHEELHOUSE/deps"
    "$PY" -m pip wheel -q --prefer-binary -w "$WHEELHOUSE/deps" -r "$WHEELHOUSE/requirements.txt" \
      -c "$WHEELHOUSE/constraints.txt"
    # Debian's Python is 3.11.2: redis wants async-timeout below 3.11.3, which the host's newer 3.11 skips
    "$PY" -m pip wheel -q --prefer-binary -w "$WHEELHOUSE/deps" "async-timeout>=4.0.3"
    touch "$stamp"
  fi
  # the project's wheel: every run (seconds), reproducible bytes so an unchanged tree keeps podman's layer cache
  log "building the project's wheel"
  local src
  src=$(mktemp -d)
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src" 2>/dev/null || true
  rm -rf "$WHEELHOUSE/project" && mkdir -p "$WHEELHOUSE/project"
  SOURCE_DATE_EPOCH=315532800 "$PY" -m pip wheel -q --no-deps -w "$WHEELHOUSE/project" "$src" \
    2> "$WHEELHOUSE/project-build.log" || { cat "$WHEELHOUSE/project-build.log" >&2; exit 1; }
  rm -rf "$src"
}

opensearch_jars() {
  scripts/opensearch.sh fetch
}

stage_context() {
  # one small build context (hard links), instead of the whole project with its venv and caches
  log "staging the build context in $CONTEXT"
  rm -rf "$CONTEXT" && mkdir -p "$CONTEXT"
  cp -al "$WHEELHOUSE" "$CONTEXT/wheelhouse"
  cp -al .cache/opensearch/lib "$CONTEXT/opensearch-lib"
  cp -a web/static "$CONTEXT/static"  # with web/static/vendor, which scripts/frontend.sh fetches (not in git)
  cp -a deploy/files "$CONTEXT/files"
  # the larger Vietnamese and French models (scripts/models.sh; not in git): the files, not the links
  mkdir -p "$CONTEXT/tessdata_best"
  find digitize/models/tessdata_best -maxdepth 1 -type f -name '*.traineddata' -exec cp -a {} "$CONTEXT/tessdata_best/" \;
  # reproducible mtimes: podman's layer cache keys on content and metadata
  find "$CONTEXT/static" "$CONTEXT/files" "$CONTEXT/tessdata_best" -exec touch -h -d @315532800 {} +
}

build() {
  local tag=$1 file=$2
  log "building $tag"
  podman build -q --network=host -f "deploy/$file" -t "$tag" "$CONTEXT" >/dev/null
}

base_image
wheelhouse
opensearch_jars
stage_context
build heritage-app Containerfile.app
build heritage-proxy Containerfile.proxy
build heritage-postgres Containerfile.postgres
build heritage-redis Containerfile.redis
build heritage-opensearch Containerfile.opensearch
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'heritage-' >&2
