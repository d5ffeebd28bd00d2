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
#
# MODE=daemon: issue 16's camera case through the real daemon: a 6000x4000 (WIDTH x HEIGHT) photo-sized input
# upscaled x4 by `upscale` with realesr-animevideov3 at the default tile/overlap into a tiled BigTIFF
# (24000x16000, 384 Mpx: over the decoded-image limit, within --max-output-pixels). The daemon's VmHWM
# (/proc/PID/status) must stay under BOUND_MB (default 1024) and the output must have exactly 4x the size.
# Measured 2026-12-07 (2 shared cores, debug build, BIN=.build/debug WIDTH=6000 HEIGHT=400 -> 24000x1600, the
# full output width, which is what sets the peak): daemon VmHWM 471 MB, exact size, 146 s. Release build, full
# size: 368 MB, 578 s; with REFINE=1 (1,944 windows): 577 MB, 1663 s, exact size.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}  # build folder (a helper working beside another build uses its own)
if [ "${MODE:-bench}" = daemon ]; then
    BOUND_MB=${BOUND_MB:-1024}
    W=${WIDTH:-6000}; H=${HEIGHT:-4000}
    BIN=${BIN:-}  # a folder with built diffusiond and diffusionctl (e.g. .build/debug for a small trial run)
    if [ -z "$BIN" ]; then
        swift build -c release --scratch-path "$SCRATCH" --product diffusiond >/dev/null
        swift build -c release --scratch-path "$SCRATCH" --product diffusionctl >/dev/null
        BIN="$SCRATCH/release"
    fi
    out=$(mktemp -d)
    trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$out"' EXIT
    # A textured input (noise plus gradients), so the network and the encoder do real work.
    vips gaussnoise "$out/noise.v" "$W" "$H" --mean 128 --sigma 40
    vips cast "$out/noise.v" "$out/in.png" uchar
    # Tagged sRGB: a 3-band image still tagged grey would be written as grey + alpha (4 bands).
    vips bandjoin "$out/in.png $out/in.png $out/in.png" "$out/rgb.v"
    vips copy "$out/rgb.v" "$out/rgb.png" --interpretation srgb
    [ "$(vipsheader -f bands "$out/rgb.png")" = 3 ] || { echo "FAIL: the input is not RGB" >&2; exit 1; }
    models=./models
    refine=()
    if [ -n "${REFINE:-}" ]; then
        # SD tile refine over the whole upscaled image at the default tile (512) with a tiny model: what the
        # stream holds is set by the width and the tile, not by the model, and a tiny model keeps the run short.
        # The sd1 fixture's own VAE downsamples by 2 only (a 512 tile would be a 256² latent, whose attention
        # takes minutes a window), so it is paired with the full-structure fixture's VAE (4 levels, factor 8,
        # the same 4 latent channels): a 512 tile is a 64² latent, as with a real SD 1.5 model.
        models="$out/models"
        mkdir -p "$models"
        cp -r ./models/realesrgan "$models/realesrgan"
        cp -r Tests/Fixtures/sd/sd1/diffusers "$models/tiny"
        rm -r "$models/tiny/vae"
        cp -r Tests/Fixtures/models/full_structure/vae "$models/tiny/vae"
        refine=(-p refine.model=tiny -p refine.prompt="a photo" -p refine.steps="${REFINE_STEPS:-4}"
                -p refine.strength="${REFINE_STRENGTH:-0.25}" -p refine.seam_fix="${REFINE_SEAM_FIX:-false}")
    fi
    "$BIN/diffusiond" serve --models "$models" --socket "$out/d.sock" 2>"$out/daemon.log" &
    pid=$!
    for _ in $(seq 100); do [ -S "$out/d.sock" ] && break; sleep 0.1; done
    start=$(date +%s)
    "$BIN/diffusionctl" call upscale --socket "$out/d.sock" --quiet -p image.path="$out/rgb.png" \
        -p model=realesr-animevideov3 -p output.path="$out/out.tif" "${refine[@]}" >"$out/result.json"
    elapsed=$(( $(date +%s) - start ))
    hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    size=$(vipsheader -f width "$out/out.tif")x$(vipsheader -f height "$out/out.tif")
    echo "{\"input\": [$W, $H], \"refine\": $([ -n "${REFINE:-}" ] && echo true || echo false), \"output\": \"$size\", \"daemon_peak_rss_mb\": $((hwm_kb / 1024)), \"seconds\": $elapsed}"
    [ "$size" = "$((W * 4))x$((H * 4))" ] || { echo "FAIL: output is $size, not $((W * 4))x$((H * 4))" >&2; exit 1; }
    [ $((hwm_kb / 1024)) -lt "$BOUND_MB" ] || { echo "FAIL: daemon peak RSS $((hwm_kb / 1024)) MB >= $BOUND_MB MB" >&2; exit 1; }
    echo "OK: daemon peak RSS $((hwm_kb / 1024)) MB < ${BOUND_MB} MB, exact size $size"
    exit 0
fi
BOUND_MB=${BOUND_MB:-200}
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
