#!/usr/bin/env bash
# Builds the zip for Krita's Tools ▸ Scripts ▸ Import Python Plugin from File…: the diffusiond_krita package and
# its .desktop file at the zip's top level (what Krita's importer expects). Usage: make_zip.sh [OUT.zip]
# (default examples/krita/build/diffusiond_krita.zip). Uses Python's zipfile, so no zip tool is needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build/diffusiond_krita.zip}
mkdir -p "$(dirname "$out")"
python3 - "$here" "$out" <<'PY'
import os, sys, zipfile
here, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(os.path.join(here, "diffusiond_krita.desktop"), "diffusiond_krita.desktop")
    package = os.path.join(here, "diffusiond_krita")
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".html")):
                path = os.path.join(root, name)
                z.write(path, os.path.relpath(path, here))
os.replace(out + ".tmp", out)
print(out)
PY
