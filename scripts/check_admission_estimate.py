#!/usr/bin/env python3
"""Calibrates admission control: runs jobs through a real daemon and compares each job's measured peak (VmHWM
of the daemon during the job, above its resident set just before) with the estimate `status` reports for it
(`running.estimated_bytes` minus the resident weights).

    python3 scripts/check_admission_estimate.py [--bin .build/debug] [--cases NAME,...] [--sd15 DIR]

Each case starts a fresh daemon (so VmHWM starts at the idle daemon), loads the model, resets VmHWM
(/proc/PID/clear_refs "5"), runs one job while polling `status`, and prints measured and estimated MB and
their ratio. The estimate must stay above the measurement (ratio >= 1); the README states the margin.
The `+control`, `+adapter` and `+lora` cases are the plain case with one ControlNet, T2I-Adapter or LoRA added:
the difference of their peaks against the plain case's calibrates what each adds. `--sd15 DIR` (a diffusers
SD 1.5 folder, e.g. the benchmark's) adds the full-size cases `sd15-*` (use a release build for those).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "python"))
from diffusiond_client import DiffusiondClient  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
TINY = os.path.join(FIXTURES, "sd", "sd1", "diffusers")
CONTROL_IMAGE = {"path": os.path.join(FIXTURES, "t2i_adapter", "control.png")}
PHOTO = {"path": os.path.join(FIXTURES, "upscale", "photo256.png")}

CASES = {
    "generate-64": ("tiny", "generate", {"width": 64, "height": 64, "steps": 1}),
    "generate-128-batch2": ("tiny", "generate", {"width": 128, "height": 128, "steps": 1, "batch_size": 2}),
    "generate-256": ("tiny", "generate", {"width": 256, "height": 256, "steps": 1}),
    "generate-256+control": ("tiny", "generate", {"width": 256, "height": 256, "steps": 1,
                                                  "control": [{"model": "sd1-a", "image": CONTROL_IMAGE}]}),
    "generate-256+adapter": ("tiny", "generate", {"width": 256, "height": 256, "steps": 1,
                                                  "adapters": [{"model": "sd1-full", "image": CONTROL_IMAGE}]}),
    "generate-256+lora": ("tiny", "generate", {"width": 256, "height": 256, "steps": 1,
                                               "loras": [{"name": "sd1_locon", "weight": 0.5}]}),
    "upscale-compact-tile128": ("realesr-animevideov3-x4", "upscale", {"tile": 128}),
    "upscale-x4plus-tile32": ("realesrgan-x4plus", "upscale", {"tile": 32}),
    "upscale-x4plus-tile64": ("realesrgan-x4plus", "upscale", {"tile": 64}),
    "upscale-x4plus-tile128": ("realesrgan-x4plus", "upscale", {"tile": 128}),
    # 256² -> 1024², then one 128² SD window at a time over it (the tiny model's VAE downsamples by 2: a 64²
    # latent, as a 512 tile is with SD 1.5).
    "upscale-compact+refine": ("realesr-animevideov3-x4", "upscale",
                               {"refine": {"model": "tiny", "prompt": "a photo", "steps": 4, "strength": 0.25,
                                           "tile": 128, "overlap": 32}}),
}
SD15_CASES = {
    "sd15-generate-256": ("sd15", "generate", {"width": 256, "height": 256, "steps": 1}),
    "sd15-generate-512": ("sd15", "generate", {"width": 512, "height": 512, "steps": 1}),
    "sd15-generate-768": ("sd15", "generate", {"width": 768, "height": 768, "steps": 1}),
}


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"%s:\s+(\d+)" % name, f.read()).group(1)) * 1024


def run_case(binary, models, work, name):
    model, method, extra = {**CASES, **SD15_CASES}[name]
    sock = os.path.join(work, name + ".sock")
    daemon = subprocess.Popen([os.path.join(binary, "diffusiond"), "serve", "--models", models, "--socket", sock],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        with DiffusiondClient(sock, resolve_paths=False) as client:
            client.call("models.load", {"model": model})
            params = {"model": model, "output": {"path": os.path.join(work, name + ".png"), "overwrite": True}}
            if method == "generate":
                params["prompt"] = "a photo"
            else:
                params["image"] = PHOTO
            params.update(extra)
            if name in SD15_CASES:
                # A float32 checkpoint is mapped, not read: its pages come in during the first job, which would
                # count the weights as the job's peak. One untimed run first brings them in.
                client.call(method, params)
            resident = client.call("status")["resident_bytes"]
            with open("/proc/%d/clear_refs" % daemon.pid, "w") as f:
                f.write("5")
            before = status_field(daemon.pid, "VmRSS")
            estimates = []
            done = threading.Event()

            def poll():
                with DiffusiondClient(sock, resolve_paths=False) as observer:
                    while not done.is_set():
                        running = observer.call("status").get("running") or {}
                        if "estimated_bytes" in running:
                            estimates.append(running["estimated_bytes"])
                        time.sleep(0.05)
            watcher = threading.Thread(target=poll)
            watcher.start()
            client.call(method, params)
            done.set()
            watcher.join()
            peak = status_field(daemon.pid, "VmHWM") - before
            working = (max(estimates) - resident) if estimates else None
            return peak, working
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug"))
    parser.add_argument("--cases", default=None, help="default: every case (the sd15-* ones with --sd15)")
    parser.add_argument("--sd15", default=None, help="a diffusers SD 1.5 folder for the full-size cases")
    args = parser.parse_args()
    cases = args.cases or ",".join(list(CASES) + (list(SD15_CASES) if args.sd15 else []))
    work = tempfile.mkdtemp(prefix="admission-")
    try:
        models = os.path.join(work, "models")
        os.makedirs(models)
        os.symlink(TINY, os.path.join(models, "tiny"))
        os.symlink(os.path.join(ROOT, "models", "realesrgan"), os.path.join(models, "realesrgan"))
        os.symlink(os.path.join(FIXTURES, "controlnet", "models"), os.path.join(models, "controlnet"))
        os.symlink(os.path.join(FIXTURES, "t2i_adapter"), os.path.join(models, "t2i_adapter"))
        os.symlink(os.path.join(FIXTURES, "lora", "loras"), os.path.join(models, "loras"))
        if args.sd15:
            os.symlink(os.path.abspath(args.sd15), os.path.join(models, "sd15"))
        print("%-26s %12s %12s %8s" % ("case", "measured MB", "estimate MB", "ratio"))
        for name in cases.split(","):
            peak, working = run_case(args.bin, models, work, name)
            ratio = working / peak if working and peak > 0 else float("nan")
            print("%-26s %12.1f %12.1f %8.2f" % (name, peak / 1e6, (working or 0) / 1e6, ratio), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
