#!/usr/bin/env bash
# The XCTest suites under AddressSanitizer and ThreadSanitizer (README "Reliability"), each in its own build
# folder (.build-asan, .build-tsan) so the normal .build stays as it is. Any sanitizer report fails the run:
# reports are fixed, never suppressed.
#   scripts/sanitize.sh                      both sanitizers, every suite
#   scripts/sanitize.sh address [FILTER...]  one sanitizer, only the suites (swift test --filter) named
# CI runs `scripts/sanitize.sh address DaemonTests ImagingTests`.
# SANITIZE_SKIP (a `swift test --skip` pattern) leaves out tests that assert the process's own time or memory
# bounds, which the sanitizer's shadow memory and slowdown break by design; they run in the normal suite.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=(address thread)
if [ $# -gt 0 ]; then sanitizers=("$1"); shift; fi
filters=()
for f in "$@"; do filters+=(--filter "$f"); done
status=0
for sanitizer in "${sanitizers[@]}"; do
    # Reports also go to files: the daemon tests run diffusiond as a child, whose stderr the tests keep.
    reports_dir=$(mktemp -d)
    case "$sanitizer" in
        address) scratch=.build-asan; export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$reports_dir/report" ;;
        thread) scratch=.build-tsan; export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports_dir/report" ;;
        *) echo "sanitize: unknown sanitizer '$sanitizer' (address or thread)"; exit 2 ;;
    esac
    log=$(mktemp)
    start=$(date +%s)
    set +e
    skip=${SANITIZE_SKIP-BadInputTests.testGigabyteLineAtDefaultLimit|FuzzTests.testSchemaDrivenParamsForEveryOperation}
    skips=()
    if [ -n "$skip" ]; then skips=(--skip "$skip"); fi
    swift test --disable-swift-testing --sanitize="$sanitizer" --scratch-path "$scratch" "${filters[@]}" "${skips[@]}" >"$log" 2>&1
    rc=$?
    set -e
    reports=$(cat "$reports_dir"/report* 2>/dev/null | grep -cE "^SUMMARY: (Address|Thread|UndefinedBehavior)Sanitizer" || true)
    # No summary (a build error, a test binary that dies at start) must still reach the report below.
    summary=$(grep -E '^[[:space:]]*Executed [0-9]+ tests?, with' "$log" | tail -n 1 | sed -E 's/^[[:space:]]+//' || true)
    echo "sanitize $sanitizer: ${summary:-no XCTest summary}; $reports sanitizer reports; $(( $(date +%s) - start )) s"
    if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
        status=1
        cat "$reports_dir"/report* 2>/dev/null | head -n 80 || true
        grep -E "error: |failed \(" "$log" | head -n 30 || true
    fi
    rm -rf "$log" "$reports_dir"
done
exit "$status"
