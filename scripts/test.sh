#!/usr/bin/env bash
# The whole test suite: builds everything (the daemon tests start the real diffusiond and diffusionctl
# executables), runs every XCTest suite, and closes with one plain "N passed, N failed, N skipped" line.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every target imports exactly the targets it declares (README "Architecture"): SwiftPM's check refuses imports
# of undeclared modules it cannot reach; ours also refuses reachable-but-undeclared ones and unused declarations.
python3 scripts/check_imports.py
swift build --explicit-target-dependency-import-check error
# protocol/schema/ must be exactly what the code generates (regenerate: diffusiond schema --write protocol/schema).
"$(swift build --show-bin-path)/diffusiond" schema --check protocol/schema
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with' "$log" | tail -n 1)
total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(grep -oE '[0-9]+ failures?' <<<"$summary" | head -n 1 | grep -oE '^[0-9]+' || echo 0)
skipped=$(grep -oE '[0-9]+ tests? skipped' <<<"$summary" | grep -oE '^[0-9]+' || echo 0)
if [ -z "$summary" ]; then echo "tests: no XCTest summary found"; exit 1; fi
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
scripts/soak.sh 2 || status=1       # 8 clients for 2 minutes: one reply per request, no restart, flat RSS/fds/threads
scripts/test_gimp.sh || status=1   # the GIMP plug-in inside real gimp-console (ends with "gimp: N passed, N failed")
scripts/test_krita.sh || status=1  # the Krita plug-in in real Krita; ends with its own "krita: N passed, N failed"
exit "$status"
