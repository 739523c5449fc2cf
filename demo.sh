#!/usr/bin/env bash
# The end-to-end demo on synthesised data: synth -> index -> preprocess -> train -> evaluate ->
# theta -> predict on a video. About 30 s on 2 idle CPU cores (2026-12-07). Usage: bash demo.sh [OUT_DIR]
# Run again, it replaces its own earlier outputs (OUT_DIR/.fsr-demo marks them) and nothing else.
set -euo pipefail
out=${1:-demo}
own=(run theta.png theta_maps.png predictions_video.csv)
if [ -e "$out/.fsr-demo" ]; then
  for f in "${own[@]}"; do rm -rf "${out:?}/$f"; done  # the demo's own outputs of an earlier run
elif [ -e "$out/run" ]; then
  echo "error: $out/run exists and is not an earlier demo's output; give another folder: bash demo.sh DIR" >&2
  exit 2
fi
mkdir -p "$out" && echo "outputs of demo.sh: ${own[*]}, casme2/, video/" > "$out/.fsr-demo"
fsr checks
fsr synth "$out/casme2" --layout casme2 --subjects 4 --clips 6 --seed 0
fsr index "$out/casme2"
fsr preprocess "$out/casme2" --workers 2
fsr train "$out/casme2" --protocol loso --model facesleuth-r --seed 0 --out "$out/run" --final
fsr evaluate "$out/run"
fsr theta show "$out/run" --plot "$out/theta.png"
fsr synth "$out/video" --layout video --subjects 1 --clips 2 --seed 1
fsr predict "$out"/video/clips/*.mp4 --run "$out/run" --csv "$out/predictions_video.csv"
fsr theta maps "$out/run" "$out/video/clips/sub01_01.mp4" --out "$out/theta_maps.png"
echo "demo finished: run $out/run, plots $out/theta.png and $out/theta_maps.png"
