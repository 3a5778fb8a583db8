#!/usr/bin/env bash
# tessdata's larger LSTM models for Vietnamese and French (the tessdata repository's integerised "best"
# networks), from the npm registry (@tesseract.js-data/<lang>, 4.0.0_best_int/), into
# digitize/models/tessdata_best/, with links to the system's models of every other language (and its
# configs), so that one folder serves a reading in "vie+eng". The pipeline reads a doubtful page
# again with them (digitize.pipeline.better_model). Run by scripts/setup.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
models=digitize/models
out=$models/tessdata_best
system=$(.venv/bin/python -c 'from digitize.tesseract import tessdata_dir; print(tessdata_dir())')
(cd $models && npm ci --no-audit --no-fund --loglevel=error)
rm -rf $out.part && mkdir -p $out.part
for lang in vie fra; do
    gunzip -c $models/node_modules/@tesseract.js-data/$lang/4.0.0_best_int/$lang.traineddata.gz > $out.part/$lang.traineddata
done
for path in "$system"/*; do
    name=$(basename "$path")
    [ -e "$out.part/$name" ] || ln -s "$path" "$out.part/$name"
done
rm -rf $out && mv $out.part $out
echo "models: larger models for $(cd $out && find . -maxdepth 1 -type f -name '*.traineddata' | sed 's|./||; s|.traineddata||' | sort | tr '\n' ' ')in $out"
