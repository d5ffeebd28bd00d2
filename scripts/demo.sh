#!/usr/bin/env bash
# The main job end to end: build the daemon, start it on a private socket, send a real `resize` request
# and an `upscale` with a real Real-ESRGAN network through diffusionctl, write the output images, print where it is, and stop the daemon cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product diffusiond
swift build -c release --product diffusionctl
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d /tmp/diffusiond-demo.XXXXXX)
chmod 700 "$work"
socket="$work/diffusiond.sock"
input="$work/input.png"
output="$work/resized.png"

# A small RGBA test card made with Python's standard library (no image tools needed).
python3 - "$input" <<'PY'
import struct, sys, zlib
w, h = 320, 240
rows = []
for y in range(h):
    row = bytearray(b"\x00")
    for x in range(w):
        check = ((x // 40) + (y // 40)) % 2
        row += bytes((x * 255 // (w - 1), y * 255 // (h - 1), 255 if check else 64, 255 if x < w - 40 else 96))
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
PY

"$bin/diffusiond" serve --socket "$socket" --models "$PWD/models" --log-level info 2>"$work/diffusiond.log" &
daemon=$!
cleanup() { kill "$daemon" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 100); do
    "$bin/diffusionctl" ping --socket "$socket" --quiet >/dev/null 2>&1 && break
    sleep 0.1
done

echo "== capabilities (operations)"
"$bin/diffusionctl" capabilities --socket "$socket" --quiet | python3 -c 'import json,sys; c=json.load(sys.stdin); print("protocol", c["protocol_version"], "| blas", c["blas_core"], "| operations:", ", ".join(o["method"] for o in c["operations"]))'

echo "== resize $input (320x240) -> $output (160 wide, lanczos3)"
"$bin/diffusionctl" call resize --socket "$socket" \
    -p image.path="$input" -p width=160 -p kernel=lanczos3 -p output.path="$output"

upscaled="$work/upscaled.png"
echo "== upscale $input x4 with the real Real-ESRGAN realesr-animevideov3 network -> $upscaled (1280x960)"
"$bin/diffusionctl" call upscale --socket "$socket" \
    -p image.path="$input" -p model=realesr-animevideov3 -p output.path="$upscaled"

echo "== status"
"$bin/diffusionctl" status --socket "$socket" --quiet

"$bin/diffusionctl" shutdown --socket "$socket" --quiet >/dev/null
wait "$daemon"
trap - EXIT
echo "== daemon stopped (exit 0); log: $work/diffusiond.log"
echo "output images: $output $upscaled"
