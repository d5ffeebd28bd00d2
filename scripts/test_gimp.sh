#!/usr/bin/env bash
# The GIMP plug-in inside real GIMP 2.10 (gimp-console, batch mode) against a real daemon on the tiny fixture
# models: builds examples/gimp, starts diffusiond in a temp folder, runs every procedure in its own
# gimp-console under a timeout, checks the layers' pixels against the daemon's own outputs
# (examples/gimp/tests/check.py), and closes with one "gimp: N passed, N failed" line.
# Needs: gimp, libgimp2.0-dev, libjson-glib-dev (scripts/setup.sh), models/realesrgan, and a built daemon
# (swift build; scripts/test.sh runs this after it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

make -s -C examples/gimp
bin=$(swift build --show-bin-path)
for exe in diffusiond diffusionctl; do
    [ -x "$bin/$exe" ] || { echo "gimp: $bin/$exe is missing; run swift build first"; exit 1; }
done
[ -f models/realesrgan/realesr-animevideov3-x2.param ] || { echo "gimp: models/realesrgan is missing; run scripts/setup.sh"; exit 1; }
command -v gimp-console-2.10 >/dev/null || { echo "gimp: gimp-console-2.10 not installed; run scripts/setup.sh"; exit 1; }

tmp=$(mktemp -d /tmp/diffusiond-gimp-test.XXXXXX)
daemons=()
cleanup() {
    for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -n "${KEEP_GIMP_TEST:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/plug-ins" "$tmp/models" "$tmp/run" "$tmp/out" "$tmp/allowed"
chmod 700 "$tmp/run"
cp examples/gimp/build/diffusiond-gimp "$tmp/plug-ins/"
ln -s "$root/Tests/Fixtures/sd/sd1/diffusers" "$tmp/models/tiny"
ln -s "$root/Tests/Fixtures/sd/sd1-inpaint/diffusers" "$tmp/models/tiny-inpaint"
ln -s "$root/models/realesrgan" "$tmp/models/realesrgan"
ln -s "$root/Tests/Fixtures/lora/loras" "$tmp/models/loras"  # the dialogs offer the daemon's LoRAs ...
ln -s "$root/Tests/Fixtures/controlnet/models" "$tmp/models/controlnet"  # ... and its ControlNets
# GIMP's own plug-ins (Script-Fu runs the batch commands) plus ours.
printf '(plug-in-path "${gimp_plug_in_dir}/plug-ins:%s")\n' "$tmp/plug-ins" >"$tmp/gimprc"
fixtures="$root/Tests/Fixtures/upscale"
scm="$root/examples/gimp/tests/scenarios.scm"
export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run" DIFFUSIONCTL="$bin/diffusionctl"
# Every preview picture the plug-in decodes (batch) or shows (dialogs) is logged here; check.py compares them
# with the daemon's own previews.
export DIFFUSIOND_GIMP_PREVIEW_LOG="$tmp/out/previews.log"

start_daemon() { # socket, extra args...
    local socket=$1; shift
    "$bin/diffusiond" serve --socket "$socket" --models "$tmp/models" --threads 1 --log-level info "$@" \
        2>"$socket.log" >/dev/null &
    daemons+=("$!")
    for _ in $(seq 1 200); do
        "$bin/diffusionctl" ping --socket "$socket" --quiet >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "gimp: the daemon on $socket did not start:"; cat "$socket.log"; exit 1
}
start_daemon "$tmp/run/d.sock"
start_daemon "$tmp/run/allow.sock" --allow-dir "$tmp/allowed"
export DIFFUSIOND_SOCKET="$tmp/run/d.sock"

# gimp-console with one or more batch commands; its output in $tmp/out/NAME.log.
gimp_batch() { # name, scheme expressions...
    local name=$1; shift
    local args=()
    for expr in "$@"; do args+=(-b "(begin (load \"$scm\") $expr)"); done
    local t0=$SECONDS
    timeout -k 5 90 gimp-console-2.10 -i -d -f --gimprc="$tmp/gimprc" "${args[@]}" -b '(gimp-quit 0)' \
        >"$tmp/out/$name.log" 2>&1 || echo "gimp-console exited with status $?" >>"$tmp/out/$name.log"
    echo "gimp: ($name: $((SECONDS - t0)) s in gimp-console)"
}

passed=0 failed=0
report() { # name, ok(0/1), detail
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "gimp: PASS $1"
    else failed=$((failed + 1)); echo "gimp: FAIL $1"; [ -n "${3:-}" ] && echo "$3"; fi
}
batch_ok() { # log: every batch command succeeded, none failed, GIMP did not time out
    grep -q "batch command executed successfully" "$1" && ! grep -q "experienced an execution error\|gimp-console exited" "$1"
}

# The procedures that add layers, and -call: one gimp-console (GIMP starts slowly), one batch command per
# scenario, so each succeeds or fails on its own; a scenario that finished prints FACT <name>.done.
run_scenarios() { # log name, scenarios...
    local name=$1; shift
    local exprs=()
    for s in "$@"; do exprs+=("(scenario-$s \"$tmp/out\" \"$fixtures\") (fact \"$s.done\" \"yes\")"); done
    gimp_batch "$name" "${exprs[@]}"
    for s in "$@"; do
        local log="$tmp/out/$name.log"
        if ! grep -q "FACT $s.done=yes" "$log"; then
            report "$s" 1 "$(grep -v '^$' "$log" | grep -v 'FACT\|GEGL\|EEEE' | tail -n 12)"; continue
        fi
        detail=$(python3 examples/gimp/tests/check.py "$s" "$tmp/out" "$log" "$fixtures" 2>&1) && ok=0 || ok=1
        report "$s" "$ok" "$detail"
    done
}
run_scenarios scenarios generate img2img inpaint outpaint call precision precision-inpaint precision-model
# By path (no inline shortcut for small images): the private job folder is used and must be gone afterwards.
DIFFUSIOND_GIMP_INLINE_MAX=0 run_scenarios by-path upscale

# -32005: the daemon may only touch $tmp/allowed, so the by-path attempt is refused and the plug-in sends the
# pixels inline instead; the result must be the same layer.
DIFFUSIOND_SOCKET="$tmp/run/allow.sock" DIFFUSIOND_GIMP_INLINE_MAX=0 \
    gimp_batch fallback "(scenario-img2img \"$tmp/out\" \"$fixtures\")"
log="$tmp/out/fallback.log"
if batch_ok "$log" && grep -q -- "-32005" "$tmp/run/allow.sock.log"; then
    detail=$(python3 examples/gimp/tests/check.py img2img "$tmp/out" "$log" "$fixtures" 2>&1) && ok=0 || ok=1
    report "fallback to base64 on -32005" "$ok" "$detail"
else
    report "fallback to base64 on -32005" 1 "$(tail -n 20 "$log"; grep -c -- -32005 "$tmp/run/allow.sock.log" || true)"
fi

# Failed jobs: each batch command fails with the daemon's own message (as diffusionctl prints it).
daemon_message() { # method, params JSON -> the daemon's error message
    "$bin/diffusionctl" call "$1" --quiet --params "$2" 2>&1 >/dev/null | sed -n 's/^diffusionctl: error -[0-9]*: //p' || true
}
unknown=$(daemon_message generate '{"model": "no-such-model", "prompt": "x", "steps": 2, "width": 32, "height": 32}')
badsteps=$(daemon_message generate '{"model": "tiny", "prompt": "x", "steps": 0, "width": 32, "height": 32}')
gimp_batch errors "(error-unknown-model)" "(error-bad-params)" "(error-no-selection)" "(error-params-json)" \
    "(error-grey-image)" "(error-long-prompt)" "(error-layers-after \"$tmp/out\" \"$fixtures\")"
log="$tmp/out/errors.log"
expect_error() { # name, procedure, message
    local line="Procedure execution of $2 failed: $3"
    if [ -n "$3" ] && grep -qF -- "$line" "$log"; then report "$1" 0
    else report "$1" 1 "  expected: $line"$'\n'"$(grep -i "error" "$log" | head -n 12)"; fi
}
expect_error "unknown model: the daemon's message" plug-in-diffusiond-generate "$unknown"
expect_error "invalid params: the daemon's message" plug-in-diffusiond-generate "$badsteps"
expect_error "inpaint without a selection" plug-in-diffusiond-inpaint "inpaint repaints the selection: select the area to repaint first"
expect_error "params-json not an object" plug-in-diffusiond-generate "params-json must be a JSON object"
expect_error "over-long prompt refused" plug-in-diffusiond-generate "an argument is too long (prompts: at most 8191 bytes"
expect_error "grey image refused" plug-in-diffusiond-upscale "diffusiond works on RGB images; convert this one with Image > Mode > RGB"
if grep -q "FACT after-error.layers=1" "$log" && grep -q "FACT after-error.canvas=32x32" "$log"; then
    report "a failed job leaves the image untouched" 0
else
    report "a failed job leaves the image untouched" 1 "$(grep FACT "$log")"
fi

# Cancel: GIMP ends a plug-in whose progress the user cancels; its connection closes and the daemon cancels the
# job (-32800). Here the test ends the plug-in process (by its pid) once the daemon reports the job running.
gimp_batch cancel "(scenario-cancel \"$tmp/out\" \"$fixtures\")" &
batch=$!
running=""
for _ in $(seq 1 300); do
    running=$("$bin/diffusionctl" status --quiet 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin).get("running"); print(r["method"] if r else "")' || true)
    [ "$running" = generate ] && break
    sleep 0.1
done
plugin=$(pgrep -f "^$tmp/plug-ins/diffusiond-gimp" | head -n 1 || true)
[ -n "$plugin" ] && [ "$running" = generate ] && kill "$plugin"
wait "$batch" || true
log="$tmp/out/cancel.log"
cancelled=0
for _ in $(seq 1 50); do grep -q -- "-32800" "$tmp/run/d.sock.log" && { cancelled=1; break; }; sleep 0.1; done
if [ "$cancelled" -eq 1 ] && grep -q "FACT cancel.layers=1" "$log" && grep -q "FACT cancel.canvas=64x64" "$log"; then
    report "cancel mid-job: -32800, image untouched" 0
else
    report "cancel mid-job: -32800, image untouched" 1 "  running=$running plugin=$plugin cancelled=$cancelled; $(grep FACT "$log")"
fi

# Queue position: while another client's long job runs, the plug-in's job waits and its progress line says where
# it stands; once that job ends (its client is killed: the daemon cancels it) the plug-in's job runs and lands.
progress="$tmp/out/queued-progress.log"
"$bin/diffusionctl" call generate --quiet \
    --params '{"model": "tiny", "prompt": "busy", "steps": 1000, "width": 32, "height": 32, "output": {"format": "png"}}' \
    >/dev/null 2>&1 &
busy=$!
running=""
for _ in $(seq 1 300); do
    running=$("$bin/diffusionctl" status --quiet 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin).get("running"); print(r["method"] if r else "")' || true)
    [ "$running" = generate ] && break
    sleep 0.1
done
DIFFUSIOND_GIMP_PROGRESS_LOG="$progress" gimp_batch queued "(scenario-queued \"$tmp/out\" \"$fixtures\")" &
batch=$!
for _ in $(seq 1 600); do grep -q "queued, position" "$progress" 2>/dev/null && break; sleep 0.1; done
kill "$busy" 2>/dev/null || true
wait "$busy" 2>/dev/null || true
wait "$batch" || true
if grep -q "^diffusiond generate: queued, position 1$" "$progress" && grep -q "FACT queued.layers=2" "$tmp/out/queued.log" \
        && grep -q "FACT queued.on-top=yes" "$tmp/out/queued.log"; then
    report "queue position shown, then the job runs" 0
else
    report "queue position shown, then the job runs" 1 "  running=$running; $(head -n 5 "$progress" 2>/dev/null); $(grep FACT "$tmp/out/queued.log")"
fi

# The interactive path: GUI GIMP under Xvfb; with DIFFUSIOND_GIMP_DIALOG_TEST the dialogs list their model
# choices on stderr and press OK by themselves. Needs xvfb-run (xvfb, xauth; the Krita block of setup.sh).
if command -v xvfb-run >/dev/null; then
    t0=$SECONDS
    DIFFUSIOND_GIMP_DIALOG_TEST=1 DIFFUSIOND_GIMP_DIALOG_LORA=sd1_loha \
    DIFFUSIOND_GIMP_DIALOG_CONTROL="img2img controlnet=sd1-a layer=control weight=1.5 start=0.3 end=0.8 preprocess=invert" \
        timeout -k 5 120 xvfb-run -a gimp-2.10 -s -d -f --gimprc="$tmp/gimprc" \
        -b "(begin (load \"$scm\") (scenario-interactive \"$tmp/out\" \"$fixtures\") (fact \"interactive.done\" \"yes\"))" \
        -b '(gimp-quit 0)' >"$tmp/out/interactive.log" 2>&1 || echo "gimp exited with status $?" >>"$tmp/out/interactive.log"
    echo "gimp: (interactive: $((SECONDS - t0)) s in gimp under Xvfb)"
    log="$tmp/out/interactive.log"
    if grep -q "FACT interactive.done=yes" "$log"; then
        detail=$(python3 examples/gimp/tests/check.py interactive "$tmp/out" "$log" "$fixtures" 2>&1) && ok=0 || ok=1
        report "dialogs (interactive, under Xvfb)" "$ok" "$detail"
        detail=$(python3 examples/gimp/tests/check.py interactive-control "$tmp/out" "$log" "$fixtures" 2>&1) && ok=0 || ok=1
        report "ControlNet from the dialogs, and Repeat (under Xvfb)" "$ok" "$detail"
    else
        report "dialogs (interactive, under Xvfb)" 1 "$(grep -v 'Gtk-WARNING\|^$' "$log" | tail -n 12)"
        report "ControlNet from the dialogs, and Repeat (under Xvfb)" 1 "  the interactive session did not finish"
    fi

    # The preview window's Cancel button, pressed once the first preview is shown: the job ends on the daemon
    # (-32800), the procedure returns cancelled, the image is untouched.
    cancels_before=$(grep -c -- "-32800" "$tmp/run/d.sock.log" || true)
    t0=$SECONDS
    DIFFUSIOND_GIMP_DIALOG_TEST=1 DIFFUSIOND_GIMP_PREVIEW_TEST_CANCEL=1 \
    DIFFUSIOND_GIMP_PREVIEW_LOG="$tmp/out/preview-cancel-previews.log" DIFFUSIOND_GIMP_PROGRESS_LOG="$tmp/out/preview-cancel-progress.log" \
        timeout -k 5 120 xvfb-run -a gimp-2.10 -s -d -f --gimprc="$tmp/gimprc" \
        -b "(begin (load \"$scm\") (scenario-preview-cancel \"$tmp/out\" \"$fixtures\") (fact \"preview-cancel.done\" \"yes\"))" \
        -b '(gimp-quit 0)' >"$tmp/out/preview-cancel.log" 2>&1 || echo "gimp exited with status $?" >>"$tmp/out/preview-cancel.log"
    echo "gimp: (preview-cancel: $((SECONDS - t0)) s in gimp under Xvfb)"
    log="$tmp/out/preview-cancel.log"
    cancels=$(grep -c -- "-32800" "$tmp/run/d.sock.log" || true)
    if grep -q "FACT preview-cancel.done=yes" "$log" && [ "$cancels" -gt "$cancels_before" ]; then
        detail=$(DIFFUSIOND_GIMP_PREVIEW_LOG="$tmp/out/preview-cancel-previews.log" \
                 DIFFUSIOND_GIMP_PROGRESS_LOG="$tmp/out/preview-cancel-progress.log" \
                 python3 examples/gimp/tests/check.py preview-cancel "$tmp/out" "$log" "$fixtures" 2>&1) && ok=0 || ok=1
        report "preview window's Cancel: -32800, image untouched (under Xvfb)" "$ok" "$detail"
    else
        report "preview window's Cancel: -32800, image untouched (under Xvfb)" 1 \
            "  daemon cancels: $cancels_before -> $cancels; $(grep -v 'Gtk-WARNING\|^$' "$log" | tail -n 12)"
    fi
else
    echo "gimp: SKIP dialogs (interactive) and the preview's Cancel: xvfb-run is not installed"
fi

# No daemon: the user sees the daemon-not-running message.
nobody="$tmp/run/nobody.sock"
DIFFUSIOND_SOCKET="$nobody" gimp_batch nodaemon "(error-unknown-model)"
log="$tmp/out/nodaemon.log"
if grep -F "Procedure execution of plug-in-diffusiond-generate failed: cannot connect to $nobody: " "$log" \
        | grep -qF "; is diffusiond running (diffusiond serve --socket $nobody)?"; then
    report "no daemon running" 0
else
    report "no daemon running" 1 "$(grep -i error "$log" | head -n 5)"
fi

echo "gimp: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
