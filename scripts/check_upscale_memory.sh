#!/usr/bin/env bash
# Bounded-memory check of the streaming upscaler at full size (release build; too slow for debug CI):
# 3000x3000 x4 with realesr-animevideov3 at tile 128 -> 12000x12000 tiled TIFF. The decoded output is
# 432 MB (8-bit RGB), 1.7 GB as float; peak RSS must stay under BOUND_MB (default 200 MB, which covers the
# process baseline, the network, the assembler's float rows and one band of input rows).
# Memory depends on the output WIDTH and the tile size, never grows with the height (see BoundedMemoryTests),
# so a short image measures the full-size peak in a fraction of the time. A short image is even the worst case:
# its few grid rows are spread to overlap more than the requested 16 px, so more output rows are shared.
# Measured 2026-11-27 (2 cores, with the Winograd convolutions):
#   full size, 3000x3000 -> 12000x12000: peak 153 MB absolute (60 MB before the job), 105 s.
#   WIDTH=3000 HEIGHT=300 -> 12000x1200: peak 174 MB absolute (60 MB before the job), 11 s; grid rows overlap
#   by 42 px, i.e. 336 shared output rows (12000 x 336 x 3 x 4 B = 48 MB); at the full 3000 px height they
#   overlap by ~18 px (~140 shared rows, 20 MB).
#   Before the Winograd convolutions: WIDTH=3000 HEIGHT=600 -> 155 MB; runs at 375 and 1500 px wide put the
#   network's buffers for one tile at about 40 MB then, about 60 MB with Winograd (purged before the encode).
# The rest: the shared rows above, one 512x512 float tile window (3 MB), the input band (~9 MB) and libvips'
# buffers while it encodes. Earlier the assembler held a full tile-tall float band (74 MB), a copy of it per
# strip and a row of pending tile results: 350 MB at 3000x3000.
set -euo pipefail
cd "$(dirname "$0")/.."
BOUND_MB=${BOUND_MB:-200}
SCRATCH=${SCRATCH:-.build}  # build folder (a helper working beside another build uses its own)
swift build -c release --scratch-path "$SCRATCH" --product diffusiond-bench >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
line=$("$SCRATCH/release/diffusiond-bench" upscale-memory --models ./models --model realesr-animevideov3 \
    --width "${WIDTH:-3000}" --height "${HEIGHT:-3000}" --tile 128 --overlap 16 --output "$out/out.tif")
echo "$line"
peak=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peak_rss_bytes"] // (1 << 20))' "$line")
if [ "$peak" -ge "$BOUND_MB" ]; then
    echo "FAIL: peak RSS ${peak} MB >= ${BOUND_MB} MB" >&2
    exit 1
fi
echo "OK: peak RSS ${peak} MB < ${BOUND_MB} MB"
