#!/usr/bin/env bash
# The end-to-end demo: a small synthesised CASME II-layout dataset through the whole pipeline.
set -euo pipefail
out=${1:-demo}
fsr synth "$out/casme2" --layout casme2 --subjects 4 --clips 6 --seed 0
fsr index "$out/casme2"
