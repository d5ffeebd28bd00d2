#!/usr/bin/env bash
# Bounded-memory check of the streaming upscaler at full size (release build; too slow for debug CI):
# 3000x3000 x4 with realesr-animevideov3 at tile 128 -> 12000x12000 tiled TIFF. The decoded output is
# 432 MB (8-bit RGB), 1.7 GB as float; peak RSS must stay under BOUND_MB (default 400 MB, which covers the
# process baseline, the network, one row of tile results and one band of output rows).
# Measured 2026-11-26 (2 shared cores): peak 350 MB absolute (62 MB before the job), 618 s. Most of it is the
# tile assembler's float32 buffers, all proportional to output WIDTH x tile size: one band of output rows
# (12000 x 512 x 3 x 4 B = 74 MB), its strip copy (74 MB) and one row of 27 pending tile results (85 MB).
# Smaller tiles lower it proportionally; the image height never enters (see BoundedMemoryTests).
set -euo pipefail
cd "$(dirname "$0")/.."
BOUND_MB=${BOUND_MB:-400}
swift build -c release --product diffusiond >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
line=$(./.build/release/diffusiond bench upscale-memory --models ./models --model realesr-animevideov3 \
    --width "${WIDTH:-3000}" --height "${HEIGHT:-3000}" --tile 128 --overlap 16 --output "$out/out.tif")
echo "$line"
peak=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peak_rss_bytes"] // (1 << 20))' "$line")
if [ "$peak" -ge "$BOUND_MB" ]; then
    echo "FAIL: peak RSS ${peak} MB >= ${BOUND_MB} MB" >&2
    exit 1
fi
echo "OK: peak RSS ${peak} MB < ${BOUND_MB} MB"
