#!/usr/bin/env bash
# Soak and load: 8 concurrent clients against one debug-built daemon for MINUTES (default 2, what CI runs);
# the driver (scripts/soak.py) asserts one terminal reply per request, no restart, and flat RSS, descriptors
# and threads after warm-up. Extra arguments go to the driver (e.g. --report soak.json).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-2}
shift || true
nice swift build --product diffusiond
exec nice python3 scripts/soak.py --minutes "$minutes" --bin "$(swift build --show-bin-path)" "$@"
