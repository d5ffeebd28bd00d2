#!/usr/bin/env bash
# The speed/memory benchmark in one go: release build, full-size SD 1.5-architecture random weights (made once,
# ~4.3 GB under work/, gitignored), then `diffusiond-bench`, which times us and PyTorch alternately in one run.
#   scripts/bench/run.sh                          # all workloads, all cores
#   scripts/bench/run.sh --threads 2 --repeats 5  # any `diffusiond-bench` option (see --help)
#   MODEL=/path/to/sd15 scripts/bench/run.sh      # a real checkpoint (diffusers folder or single file) instead
# Needs python3 with torch, diffusers and transformers for the weights and the PyTorch side (or pass --no-torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-work/bench-sd15}
PYTHON=${PYTHON:-python3}
if [ ! -e "$MODEL" ]; then
    "$PYTHON" scripts/bench/make_weights.py "$MODEL"
fi
swift build -c release --product diffusiond-bench
exec .build/release/diffusiond-bench sd --model "$MODEL" --python "$PYTHON" "$@"
