#!/usr/bin/env bash
# libFuzzer over the daemon's parsers of untrusted input (README "Reliability"): builds the library modules with
# `-sanitize=fuzzer,address` in .build-fuzz (apart from the normal build, which stays as it is), links each
# harness in fuzz/targets/ against them, and runs every target for SECONDS (default 20) from its seed corpus in
# fuzz/corpus/<target>/. A crash, leak, timeout or out-of-memory stops with the reproducer in
# .build-fuzz/findings/<target>/; replay one with `.build-fuzz/fuzz/<target> FILE`.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One --target per call: SwiftPM builds only the last of several.
for target in Builtins Daemon NIOEmbedded; do
    swift build --scratch-path "$scratch" "${flags[@]}" --target "$target" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
done
bin=$scratch/debug
# Every object SwiftPM compiled for those modules (tests and executables are never built here).
mapfile -t objects < <(find "$bin"/*.build -name "*.o" | sort)
module_maps=()
for map in "$bin"/*.build/module.modulemap "$scratch"/checkouts/*/Sources/*/include/module.modulemap Sources/CVips/module.modulemap Sources/CBLAS/module.modulemap protocol/c/module.modulemap; do
    module_maps+=(-Xcc "-fmodule-map-file=$map")
done
includes=()
for dir in Sources/*/include "$scratch"/checkouts/*/Sources/*/include; do includes+=(-Xcc "-I$dir"); done
for flag in $(pkg-config --cflags vips openblas); do includes+=(-Xcc "$flag"); done
# zlib: VipsShim counts what PNG metadata inflates to (Package.swift links it for the package build).
libs="$(pkg-config --libs vips openblas) -lz"
mkdir -p "$bin/fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls fuzz/targets | sed 's/\.swift$//'))
for t in "${targets[@]}"; do
    swiftc -sanitize=fuzzer,address -parse-as-library -g -module-name "fuzz_$t" -I "$bin/Modules" "${module_maps[@]}" \
        "${includes[@]}" "fuzz/targets/$t.swift" "${objects[@]}" $libs -lm -o "$bin/fuzz/$t" 2>&1 | grep -v "Cannot export local symbol" || true
    [ -x "$bin/fuzz/$t" ] || { echo "fuzz: $t did not build"; exit 1; }
done
failed=0
for t in "${targets[@]}"; do
    corpus="$work/$t"; findings="$scratch/findings/$t"
    mkdir -p "$corpus" "$findings"
    cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    # Output to a file, never a pipe: libFuzzer's children can hold a pipe open after it exits.
    if TMPDIR="$work" ASAN_OPTIONS=detect_leaks=1 "$bin/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix="$findings/" "$corpus" >"$work/$t.log" 2>&1 </dev/null; then
        echo "fuzz: $t: $(grep -oE '#[0-9]+' "$work/$t.log" | tail -n 1 | tr -d '#') runs, no findings"
    else
        failed=1
        echo "fuzz: $t FAILED (reproducer in $findings/):"
        grep -E "ERROR|==[0-9]+==|Fatal error|Precondition|deadly|SUMMARY|Test unit written" "$work/$t.log" | head -n 20
    fi
done
exit "$failed"
