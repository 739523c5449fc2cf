#!/usr/bin/env bash
# The end-to-end demo on synthesised data: synth -> preprocess -> train -> evaluate -> theta -> predict.
# A few minutes on 2 CPU cores. Usage: bash demo.sh [OUT_DIR]
set -euo pipefail
out=${1:-demo}
fsr synth "$out/casme2" --layout casme2 --subjects 4 --clips 6 --seed 0
fsr index "$out/casme2"
fsr preprocess "$out/casme2" --workers 2
fsr train "$out/casme2" --protocol loso --model facesleuth-r --seed 0 --out "$out/runs/loso" --final
fsr evaluate "$out/runs/loso"
fsr theta show "$out/runs/loso" --plot "$out/theta.png"
fsr synth "$out/video" --layout video --subjects 1 --clips 2 --seed 1
fsr predict "$out"/video/clips/*.mp4 --run "$out/runs/loso"
echo "demo finished: run in $out/runs/loso, theta plot $out/theta.png"
