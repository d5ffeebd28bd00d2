#!/usr/bin/env bash
# The Krita plug-in's tests (examples/krita, issue 14), against a real daemon on the tiny fixture models:
#   1. the plain-Python protocol core (unittest, no Krita);
#   2. the scenarios inside real Krita through diffusiond_krita.api (kritarunner, QT_QPA_PLATFORM=offscreen);
#   3. the GUI test: Krita under Xvfb with the plug-in installed, where a test-only plug-in clicks the docker.
# Each part runs under `timeout`; the last line is "krita: N passed, N failed"; the exit status is non-zero on
# any failure (a part that crashes or times out counts as failed). Needs the daemon built (`swift build`) and
# the packages in scripts/setup.sh (krita, python3-pyqt5, python3-sip, xvfb, xauth).
# KRITA_PARTS=core,scenarios,gui (the default) picks parts; KRITA_SCENARIOS=a,b runs only those scenarios;
# KRITA_SCREENSHOT=PATH keeps the GUI test's docker screenshot; KEEP_KRITA_TEST=1 keeps the temp folder.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${DIFFUSIOND_BIN_DIR:-$(swift build --show-bin-path)}
if [ ! -x "$bin/diffusiond" ]; then echo "test_krita: $bin/diffusiond not built (swift build)"; echo "krita: 0 passed, 1 failed"; exit 1; fi
for tool in kritarunner krita xvfb-run; do
    if ! command -v "$tool" >/dev/null; then echo "test_krita: $tool missing (scripts/setup.sh installs it)"; echo "krita: 0 passed, 1 failed"; exit 1; fi
done

work=$(mktemp -d /tmp/diffusiond-krita-test.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ -n "${KEEP_KRITA_TEST:-}" ]; then echo "test_krita: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The models: the tiny random SD1 model, its 9-channel inpainting sibling, a tiny Real-ESRGAN network.
fixtures=$repo/Tests/Fixtures
mkdir -p "$work/models/upscalers" "$work/allowed" "$work/runtime" "$work/home" "$work/tmp"
chmod 700 "$work/runtime"
ln -s "$fixtures/sd/sd1/diffusers" "$work/models/tiny"
ln -s "$fixtures/sd/sd1-inpaint/diffusers" "$work/models/tiny-inpaint"
ln -s "$fixtures/upscale/tiny_compact.pth" "$work/models/upscalers/tiny_compact.pth"
ln -s "$fixtures/lora/loras" "$work/models/loras"               # the docker offers the daemon's LoRAs ...
ln -s "$fixtures/controlnet/models" "$work/models/controlnet"   # ... and ControlNets

start_daemon() { # socket, extra args...
    local socket=$1; shift
    "$bin/diffusiond" serve --socket "$socket" --models "$work/models" --threads 2 --log-level info "$@" \
        2>>"$work/daemon.log" &
    pids+=($!)
}
start_daemon "$work/d.sock"
start_daemon "$work/r.sock" --allow-dir "$work/allowed"
for socket in "$work/d.sock" "$work/r.sock"; do
    ok=0
    for _ in $(seq 1 200); do
        if python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$socket" 2>/dev/null; then ok=1; break; fi
        sleep 0.1
    done
    if [ "$ok" -ne 1 ]; then echo "test_krita: the daemon on $socket did not start"; cat "$work/daemon.log"; echo "krita: 0 passed, 1 failed"; exit 1; fi
done

export DIFFUSIOND_SOCKET=$work/d.sock DIFFUSIOND_RESTRICTED_SOCKET=$work/r.sock
export DIFFUSIOND_TEST_MODEL=tiny DIFFUSIOND_TEST_UPSCALER=tiny_compact DIFFUSIOND_TEST_INPAINT_MODEL=tiny-inpaint
export DIFFUSIOND_TEST_LORA=sd1_loha DIFFUSIOND_TEST_CONTROLNET=sd1-a
export XDG_RUNTIME_DIR=$work/runtime  # Krita gets TMPDIR=$work/tmp: its swap files and caches go with the folder
passed=0
failed=0
start=$(date +%s)

# Counts PASS/FAIL lines of a results file; a missing or empty file is one failure.
part_start=$(date +%s)
count_results() { # name, results file, exit status
    local name=$1 file=$2 rc=$3 p f now
    p=$(grep -c '^PASS ' "$file" 2>/dev/null)
    f=$(grep -c '^FAIL ' "$file" 2>/dev/null)
    p=${p:-0}; f=${f:-0}
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "test_krita: $name produced no results (exit status $rc)"; f=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "test_krita: $name exited with status $rc"; f=$((f + 1))
    fi
    grep '^FAIL ' -A 20 "$file" 2>/dev/null | grep -v '^PASS ' || true
    passed=$((passed + p)); failed=$((failed + f))
    now=$(date +%s)
    echo "test_krita: $name: $p passed, $f failed ($((now - part_start)) s)"
    part_start=$now
}

parts=",${KRITA_PARTS:-core,scenarios,gui},"

# 1. The protocol core.
if [[ $parts == *,core,* ]]; then
echo "== krita: core tests (plain Python)"
timeout 120 python3 examples/krita/tests/test_core.py -v >"$work/core.log" 2>&1
rc=$?
sed -nE 's/^(test_[a-z0-9_]+) \(([^ )]*)\) \.\.\. ok$/PASS \2/p; s/^(test_[a-z0-9_]+) \(([^ )]*)\) \.\.\. (FAIL|ERROR|skipped.*)$/FAIL \2 (\3)/p' \
    "$work/core.log" >"$work/core.results"
if [ "$rc" -ne 0 ]; then tail -n 40 "$work/core.log"; fi
count_results "core tests" "$work/core.results" "$rc"
fi

# 2. Krita scenarios through diffusiond_krita.api.
if [[ $parts == *,scenarios,* ]]; then
echo "== krita: scenarios in kritarunner"
HOME=$work/home TMPDIR=$work/tmp QT_QPA_PLATFORM=offscreen PYTHONPATH=$repo/examples/krita:$repo/examples/krita/tests \
    timeout 150 kritarunner -s krita_scenarios "$work/scenarios.results" >"$work/scenarios.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then tail -n 40 "$work/scenarios.log"; fi
count_results "kritarunner scenarios" "$work/scenarios.results" "$rc"
fi

# 3. The docker in Krita's GUI under Xvfb.
if [[ $parts == *,gui,* ]]; then
    echo "== krita: GUI test under Xvfb"
    gui=$work/gui
    mkdir -p "$gui/config" "$gui/data/krita/pykrita" "$gui/cache"
    # The plug-in goes in as its release zip, unpacked where Krita's "Import Python Plugin from File" puts it.
    examples/krita/make_zip.sh "$work/diffusiond_krita.zip" >/dev/null
    python3 -m zipfile -e "$work/diffusiond_krita.zip" "$gui/data/krita/pykrita/"
    cp -r examples/krita/tests/diffusiond_krita_guitest examples/krita/tests/diffusiond_krita_guitest.desktop \
        "$gui/data/krita/pykrita/"
    printf '[python]\nenable_diffusiond_krita=true\nenable_diffusiond_krita_guitest=true\n' >"$gui/config/kritarc"
    printf '[General]\nOpenGLRenderer=none\n' >"$gui/config/kritadisplayrc" # a plain raster canvas: no llvmpipe burning the CPU
    HOME=$gui TMPDIR=$work/tmp XDG_CONFIG_HOME=$gui/config XDG_DATA_HOME=$gui/data XDG_CACHE_HOME=$gui/cache \
        DIFFUSIOND_GUITEST_RESULTS=$work/gui.results DIFFUSIOND_GUITEST_SCREENSHOT=${KRITA_SCREENSHOT:-$work/docker.png} \
        timeout -k 10 170 xvfb-run -a -s "-screen 0 1400x900x24" krita --nosplash >"$work/gui.log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || grep -q '^FAIL ' "$work/gui.results" 2>/dev/null; then grep -iE 'diffusiond|error|Traceback' "$work/gui.log" | tail -n 30; fi
    count_results "GUI test" "$work/gui.results" "$rc"
fi

echo "test_krita: $(( $(date +%s) - start )) s"
echo "krita: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
