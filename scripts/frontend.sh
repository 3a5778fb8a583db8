#!/usr/bin/env bash
# Front-end packages from the npm registry, served by the portal itself (no CDN):
# model-viewer (3D, with three.js inside), three's Draco decoder for compressed GLB,
# OpenSeadragon (deep zoom over the portal's own IIIF Image API), Leaflet (the monuments map)
# Mirador (any IIIF manifest, ours included) and the Noto Sans web font.
set -euo pipefail
cd "$(dirname "$0")/../web/frontend"
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
npm ci --no-audit --no-fund --loglevel=error
VENDOR=../static/vendor
rm -rf "$VENDOR" && mkdir -p "$VENDOR/draco"
cp node_modules/@google/model-viewer/dist/model-viewer.min.js "$VENDOR/"
cp node_modules/three/examples/jsm/libs/draco/gltf/draco_decoder.js \
   node_modules/three/examples/jsm/libs/draco/gltf/draco_decoder.wasm \
   node_modules/three/examples/jsm/libs/draco/gltf/draco_wasm_wrapper.js "$VENDOR/draco/"
mkdir -p "$VENDOR/openseadragon"
cp node_modules/openseadragon/build/openseadragon/openseadragon.min.js "$VENDOR/openseadragon/"
cp -r node_modules/openseadragon/build/openseadragon/images "$VENDOR/openseadragon/images"
mkdir -p "$VENDOR/leaflet" "$VENDOR/mirador"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$VENDOR/leaflet/"
cp -r node_modules/leaflet/dist/images "$VENDOR/leaflet/images"
cp node_modules/mirador/dist/mirador.min.js "$VENDOR/mirador/"
cp node_modules/meshoptimizer/meshopt_decoder.cjs "$VENDOR/meshopt_decoder.js"  # UMD: sets self.MeshoptDecoder
# Noto Sans (SIL OFL) for every Vietnamese letter at the weights the portal uses: only the latin,
# latin-ext and vietnamese subsets of 400, 700 and 400 italic, woff2 only (browsers fetch a subset when
# a page uses its letters: unicode-range); one fonts.css. font-display: optional, not fontsource's swap:
# the text is never drawn twice (a swap moved every page's text when the font came: Lighthouse's layout
# shift 0.2-0.4); base.html preloads the regular and bold latin and Vietnamese files, so the font is
# usually there for the first paint, and from the cache on every later page
mkdir -p "$VENDOR/noto-sans/files"
node -e '
const fs = require("fs"), dir = "node_modules/@fontsource/noto-sans/", out = process.argv[1];
// declared in this order at each weight: where ranges overlap the face declared last is the one a
// browser fetches, and the range of latin-ext holds Vietnamese letters too (ỳ ỵ ỷ ỹ: U+1EF2-1EFF) — declared
// after the vietnamese face, as fontsource does, it made nearly every Vietnamese page fetch the latin-ext
// 55-59 KB files at the highest priority, beside the 5 KB vietnamese ones (Lighthouse, search page)
const keep = ["latin-ext", "latin", "vietnamese"], css = [];
for (const sheet of ["400.css", "700.css", "400-italic.css"]) {
  const faces = [];
  for (const block of fs.readFileSync(dir + sheet, "utf8").split(/\n(?=\/\* )/)) {
    const m = /\/\* noto-sans-([a-z-]+)-(\d+)-(normal|italic) \*\//.exec(block);
    if (!m || !keep.includes(m[1])) continue;
    const file = `noto-sans-${m[1]}-${m[2]}-${m[3]}.woff2`;
    fs.copyFileSync(dir + "files/" + file, out + "/files/" + file);
    faces.push([keep.indexOf(m[1]), block.replace(/src: [^;]+;/, `src: url(files/${file}) format("woff2");`)
                  .replace(/font-display: swap;/, "font-display: optional;").trim()]);
  }
  css.push(...faces.sort((a, b) => a[0] - b[0]).map((f) => f[1]));
}
fs.writeFileSync(out + "/fonts.css", css.join("\n\n") + "\n");
' "$VENDOR/noto-sans"
cp node_modules/@fontsource/noto-sans/LICENSE "$VENDOR/noto-sans/"
# precompressed copies: the portal sends Brotli to browsers that accept it, else gzip
# (model-viewer: 1.07 MB -> 0.29 MB gzip, 0.24 MB Brotli; node's zlib writes the Brotli, quality 11)
find "$VENDOR" -type f \( -name '*.js' -o -name '*.css' -o -name '*.wasm' \) -size +8k -exec gzip -9 -k -f -n {} \;
find "$VENDOR" -type f \( -name '*.js' -o -name '*.css' -o -name '*.wasm' \) -size +8k -print0 | node -e '
const fs = require("fs"), zlib = require("zlib");
const names = fs.readFileSync(0, "utf8").split("\0").filter(Boolean);
for (const name of names) {
  const data = fs.readFileSync(name);
  const br = zlib.brotliCompressSync(data, {params: {[zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length}});
  fs.writeFileSync(name + ".br", br);
}'
echo "frontend: model-viewer $(node -p "require('./node_modules/@google/model-viewer/package.json').version") in web/static/vendor"
