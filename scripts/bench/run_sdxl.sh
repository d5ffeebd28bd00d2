#!/usr/bin/env bash
# The SDXL speed/memory benchmark in one go: release build, full-size SDXL 1.0 base-architecture random weights (made
# once, ~7 GB of float16 safetensors under work/, gitignored), then `diffusiond-bench`, which picks the SDXL suite for
# that folder and runs it SEQUENTIALLY: all of our timed calls, then our model is freed and the PyTorch worker loads
# its float32 copy (24 GB cannot hold both 13.9 GB copies), so the ratios compare two halves of one run.
#   scripts/bench/run_sdxl.sh                            # all SDXL workloads, txt2img with 20 steps (the table)
#   scripts/bench/run_sdxl.sh --steps 4                  # a quicker functional run
#   scripts/bench/run_sdxl.sh --workloads sdxl-unet-1024 # any `diffusiond-bench` option (see --help)
#   MODEL=/path/to/sdxl-base scripts/bench/run_sdxl.sh    # a real SDXL base diffusers folder instead
# Needs python3 with torch, diffusers and transformers for the weights and the PyTorch side (or pass --no-torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-work/bench-sdxl}
PYTHON=${PYTHON:-python3}
if [ ! -e "$MODEL" ]; then
    # Written to a temporary name first, so an interrupted run is not mistaken for finished weights next time.
    rm -rf "$MODEL.partial"
    "$PYTHON" scripts/bench/make_sdxl_weights.py "$MODEL.partial"
    mv "$MODEL.partial" "$MODEL"
fi
swift build -c release --product diffusiond-bench
exec .build/release/diffusiond-bench sd --model "$MODEL" --python "$PYTHON" "$@"
