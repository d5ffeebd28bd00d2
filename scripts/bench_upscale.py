#!/usr/bin/env python3
"""Upscaler speed, ours vs PyTorch, in one run: 256x256 -> 1024x1024 with realesrgan-x4plus (RRDBNet, 23
blocks) and realesr-animevideov3 (SRVGGNetCompact), float32, same thread count, same real photo
(Tests/Fixtures/upscale/photo256.png), untiled network forward only, best of N after a warm-up.

PyTorch runs the plain definitions in scripts/fixtures/upscale_reference.py with the same ncnn weights;
ours runs `diffusiond-bench upscale` from a release build (built here if missing).

Usage: python3 scripts/bench_upscale.py [--threads 2] [--repeats 3]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
from upscale_reference import load_ncnn_network  # noqa: E402

MODELS = {"realesrgan-x4plus": "realesrgan-x4plus.param", "realesr-animevideov3": "realesr-animevideov3-x4.param"}
PHOTO = os.path.join(ROOT, "Tests", "Fixtures", "upscale", "photo256.png")


def torch_times(threads, repeats):
    torch.set_num_threads(threads)
    a = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32) / np.float32(255)
    x = torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0).contiguous()
    out = {}
    with torch.inference_mode():
        for name, param in MODELS.items():
            net = load_ncnn_network(os.path.join(ROOT, "models", "realesrgan", param))
            net(x)
            best = float("inf")
            for _ in range(repeats):
                t = time.perf_counter()
                y = net(x)
                best = min(best, time.perf_counter() - t)
            out[name] = (best, y.shape[2] * y.shape[3])
    return out


def ours_times(threads, repeats):
    binary = os.path.join(ROOT, ".build", "release", "diffusiond-bench")
    if not os.path.exists(binary):
        subprocess.run(["swift", "build", "-c", "release", "--product", "diffusiond-bench"], cwd=ROOT, check=True)
    cmd = [binary, "upscale", "--models", os.path.join(ROOT, "models"), "--input", PHOTO,
           "--threads", str(threads), "--repeats", str(repeats)]
    for name in MODELS:
        cmd += ["--model", name]
    lines = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout.splitlines()
    return {j["model"]: (j["seconds"], j["output"][0] * j["output"][1]) for j in map(json.loads, lines) if j}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    ours = ours_times(args.threads, args.repeats)
    ref = torch_times(args.threads, args.repeats)
    print(f"upscale 256x256 -> 1024x1024, float32, {args.threads} threads, best of {args.repeats} "
          f"(torch {torch.__version__})")
    print(f"{'model':24} {'ours s':>8} {'torch s':>8} {'ratio':>6} {'ours MP/s':>10} {'torch MP/s':>10}")
    for name in MODELS:
        (o, px), (t, _) = ours[name], ref[name]
        print(f"{name:24} {o:8.3f} {t:8.3f} {o / t:6.2f} {px / 1e6 / o:10.3f} {px / 1e6 / t:10.3f}")


if __name__ == "__main__":
    main()
