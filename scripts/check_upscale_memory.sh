#!/usr/bin/env bash
# Bounded-memory check of the streaming upscaler at full size (release build; too slow for debug CI):
# 3000x3000 x4 with realesr-animevideov3 at tile 128 -> 12000x12000 tiled TIFF. The decoded output is
# 432 MB (8-bit RGB), 1.7 GB as float; peak RSS must stay under BOUND_MB (default 200 MB, which covers the
# process baseline, the network, the assembler's float rows and one band of input rows).
# Memory depends on the output WIDTH and the tile size, never the height (see BoundedMemoryTests), so
# HEIGHT=600 measures the same peak in a fifth of the time.
# Measured 2026-11-27 (2 shared cores), 3000x600 -> 12000x2400: peak 155 MB absolute (60 MB before the job),
# 53 s. What remains: the process baseline; the network's buffers for one tile (about 40 MB, judging by runs at
# 375/1500/3000 px wide; purged before the encode); the float rows shared by neighbouring grid rows
# (12000 x 128 x 3 x 4 B = 18 MB) plus one 512x512 tile window (3 MB); the input band (~9 MB); libvips' buffers
# while it encodes. Earlier the assembler held a full tile-tall float band (74 MB), a copy of it per strip and a
# row of pending tile results: 350 MB at 3000x3000; 204 MB at 3000x600 with the copies and pending row gone but
# the full band kept.
set -euo pipefail
cd "$(dirname "$0")/.."
BOUND_MB=${BOUND_MB:-200}
SCRATCH=${SCRATCH:-.build}  # build folder (a helper working beside another build uses its own)
swift build -c release --scratch-path "$SCRATCH" --product diffusiond >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
line=$("$SCRATCH/release/diffusiond" bench upscale-memory --models ./models --model realesr-animevideov3 \
    --width "${WIDTH:-3000}" --height "${HEIGHT:-3000}" --tile 128 --overlap 16 --output "$out/out.tif")
echo "$line"
peak=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peak_rss_bytes"] // (1 << 20))' "$line")
if [ "$peak" -ge "$BOUND_MB" ]; then
    echo "FAIL: peak RSS ${peak} MB >= ${BOUND_MB} MB" >&2
    exit 1
fi
echo "OK: peak RSS ${peak} MB < ${BOUND_MB} MB"
