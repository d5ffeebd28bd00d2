#!/usr/bin/env bash
# The XCTest suites under AddressSanitizer and ThreadSanitizer (README "Reliability"), each in its own build
# folder (.build-asan, .build-tsan) so the normal .build stays as it is. Any sanitizer report fails the run:
# reports are fixed, never suppressed.
#   scripts/sanitize.sh                      both sanitizers, every suite
#   scripts/sanitize.sh address [FILTER...]  one sanitizer, only the suites (swift test --filter) named
# CI runs `scripts/sanitize.sh address DaemonTests ImagingTests`.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=(address thread)
if [ $# -gt 0 ]; then sanitizers=("$1"); shift; fi
filters=()
for f in "$@"; do filters+=(--filter "$f"); done
status=0
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        address) scratch=.build-asan; export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1" ;;
        thread) scratch=.build-tsan; export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" ;;
        *) echo "sanitize: unknown sanitizer '$sanitizer' (address or thread)"; exit 2 ;;
    esac
    log=$(mktemp)
    start=$(date +%s)
    set +e
    swift test --disable-swift-testing --sanitize="$sanitizer" --scratch-path "$scratch" "${filters[@]}" >"$log" 2>&1
    rc=$?
    set -e
    reports=$(grep -cE "^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|UndefinedBehavior)Sanitizer)" "$log" || true)
    summary=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with' "$log" | tail -n 1 | sed -E 's/^[[:space:]]+//')
    echo "sanitize $sanitizer: ${summary:-no XCTest summary}; $reports sanitizer reports; $(( $(date +%s) - start )) s"
    if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
        status=1
        grep -E -A 30 "ERROR: AddressSanitizer|WARNING: ThreadSanitizer" "$log" | head -n 80 || true
        grep -E "error: |failed \(" "$log" | head -n 30 || true
    fi
    rm -f "$log"
done
exit "$status"
