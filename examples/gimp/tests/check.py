#!/usr/bin/env python3
"""Checks one GIMP scenario: the facts it printed, the PNGs it exported, and the daemon's own output for the
same request (made here with diffusionctl on the same socket).

usage: check.py SCENARIO OUT_DIR GIMP_LOG FIXTURES   (env: DIFFUSIONCTL, DIFFUSIOND_SOCKET)
Prints one line per failed assertion and exits 1 if any failed."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import png  # noqa: E402

scenario, out, log_path, fixtures = sys.argv[1:5]
log = open(log_path, encoding="utf-8", errors="replace").read()
facts = dict(re.findall(r"FACT ([\w.-]+)=(.*)", log))
# A multi-line value (the A1111 parameters text) runs until the next message.
facts.update(re.findall(r"FACT ([\w.-]+)=(.*?)\n\n", log, re.S))
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
    return condition


def fact(key, wanted):
    got = facts.get(key)
    expect(got == wanted, "%s: expected %r, got %r" % (key, wanted, got))


def daemon(method, params, name, preview=False):
    """The daemon's own result for the request, written to OUT/ref-NAME.png (with preview: its last preview
    picture to OUT/ref-NAME-preview.png, which does not change the result)."""
    target = os.path.join(out, "ref-%s.png" % name)
    params = dict(params, output={"path": target, "overwrite": True})
    if preview:
        params["preview"] = {"every": 1, "path": os.path.join(out, "ref-%s-preview.png" % name)}
    run = subprocess.run([os.environ["DIFFUSIONCTL"], "call", method, "--quiet", "--params", json.dumps(params)],
                         capture_output=True, text=True, timeout=120)
    if not expect(run.returncode == 0, "diffusionctl %s failed: %s" % (method, run.stderr.strip())):
        return None
    return png.read(target)


def pixels(image):
    return [image.rgba(x, y) for y in range(image.height) for x in range(image.width)]


def same(a, b, what):
    if a is None or b is None:
        return expect(False, "%s: an image is missing" % what)
    if not expect((a.width, a.height) == (b.width, b.height),
                  "%s: sizes differ, %dx%d vs %dx%d" % (what, a.width, a.height, b.width, b.height)):
        return False
    differing = sum(1 for p, q in zip(pixels(a), pixels(b)) if p != q)
    return expect(differing == 0, "%s: %d of %d pixels differ" % (what, differing, a.width * a.height))


def fnv_rgb(image):
    """FNV-1a over the R, G, B samples, as the plug-in logs a decoded preview (src/preview.c)."""
    h = 2166136261
    for y in range(image.height):
        for x in range(image.width):
            for v in image.rgba(x, y)[:3]:
                h = ((h ^ v) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def previews(method, how):
    """The plug-in's preview log (DIFFUSIOND_GIMP_PREVIEW_LOG): (size, checksum) of each decoded picture."""
    path = os.environ.get("DIFFUSIOND_GIMP_PREVIEW_LOG", "")
    lines = open(path).read().split("\n") if path and os.path.exists(path) else []
    return [tuple(line.split()[1::2]) for line in lines if line.split()[0:3:2] == [method, how]]


def check_preview(method, name, how):
    """The plug-in asked for the daemon's preview, decoded it while sampling, and its last picture equals the
    daemon's own last preview for the same request (OUT/ref-NAME-preview.png, from daemon(..., preview=True))."""
    ref_path = os.path.join(out, "ref-%s-preview.png" % name)
    if not expect(os.path.exists(ref_path), "%s: the daemon wrote no preview" % name):
        return
    ref = png.read(ref_path)
    size = "%dx%d" % (ref.width, ref.height)
    got = [p for p in previews(method, how) if p[0] == size]
    if expect(got, "%s: no %s %s preview in the plug-in's preview log (%r)" % (name, how, size, previews(method, how))):
        expect(got[-1][1] == fnv_rgb(ref), "%s: the last %s preview differs from the daemon's" % (name, how))


def load(name):
    path = os.path.join(out, name)
    return png.read(path) if expect(os.path.exists(path), "%s was not exported" % name) else None


photo64 = os.path.join(fixtures, "photo64.png")
photo32 = os.path.join(fixtures, "photo32.png")


def common(prefix, name, size, offsets, canvas):
    got = facts.get(prefix + ".name") or ""
    # GIMP keeps layer names unique by appending " #1", " #2", ...
    expect(re.fullmatch(re.escape(name) + r"( #\d+)?", got), "%s.name: expected %r, got %r" % (prefix, name, got))
    fact(prefix + ".size", size)
    fact(prefix + ".offsets", offsets)
    fact(prefix + ".canvas", canvas)
    fact(prefix + ".on-top", "yes")


def check_generate():
    common("generate", "generate: a red fox (seed 42)", "48x40", "8,4", "64x48")
    fact("generate.layers", "2")
    expect("Seed: 42" in facts.get("generate.parameters", ""), "the A1111 parameters parasite names the seed: %r"
           % facts.get("generate.parameters"))
    ref = daemon("generate", {"model": "tiny", "prompt": "a red fox", "negative_prompt": "blurry", "seed": 42,
                              "steps": 3, "width": 48, "height": 40}, "generate", preview=True)
    same(load("generate.png"), ref, "generate layer vs the daemon's output")
    check_preview("generate", "generate", "decoded")  # one pixel per latent cell (the tiny VAE: 1/2)


def check_img2img():
    common("img2img", "img2img: a castle (seed 7)", "64x64", "0,0", "64x64")
    ref = daemon("img2img", {"model": "tiny", "prompt": "a castle", "strength": 0.6, "seed": 7, "steps": 4,
                             "image": {"path": photo64}}, "img2img", preview=True)
    same(load("img2img.png"), ref, "img2img layer vs the daemon's output")
    check_preview("img2img", "img2img", "decoded")
    common("img2img-selection", "img2img: a castle (seed 7)", "48x40", "8,8", "64x64")
    crop = os.path.join(out, "crop.png")
    png.write(crop, png.read(photo64).crop(8, 8, 48, 40))
    ref = daemon("img2img", {"model": "tiny", "prompt": "a castle", "strength": 0.6, "seed": 7, "steps": 4,
                             "image": {"path": crop}}, "img2img-selection")
    same(load("img2img-selection.png"), ref, "img2img-on-a-selection layer vs the daemon's output for the crop")


def inside(x, y):
    return 16 <= x < 40 and 16 <= y < 36


def check_masked(name, layer_name, params):
    common(name, layer_name, "24x20", "16,16", "64x64")
    before, after = load(name + "-before.png"), load(name + "-after.png")
    if before is not None and after is not None:
        outside_changed = sum(1 for y in range(64) for x in range(64)
                              if not inside(x, y) and before.rgba(x, y) != after.rgba(x, y))
        inside_changed = sum(1 for y in range(64) for x in range(64)
                             if inside(x, y) and before.rgba(x, y) != after.rgba(x, y))
        expect(outside_changed == 0, "%s: %d pixels outside the selection changed" % (name, outside_changed))
        expect(inside_changed > 0, "%s: no pixel inside the selection changed" % name)
    mask = os.path.join(out, "mask.png")
    png.write_grey(mask, 64, 64, lambda x, y: 255 if inside(x, y) else 0)
    ref = daemon("inpaint", dict(params, image={"path": photo64}, mask={"path": mask}), name, preview="model" in params)
    same(load(name + ".png"), ref.crop(16, 16, 24, 20) if ref else None, "%s layer vs the daemon's output" % name)
    if "model" in params:
        check_preview("inpaint", name, "decoded")


def check_inpaint():
    check_masked("inpaint", "inpaint: a cat (seed 5)", {"model": "tiny-inpaint", "prompt": "a cat", "seed": 5,
                                                        "steps": 3})
    check_masked("fill", "inpaint: fill patchmatch", {})


def check_outpaint():
    original = png.read(photo64)
    common("fill-out", "outpaint: fill patchmatch", "88x72", "0,0", "88x72")
    fact("fill-out-bg.offsets", "8,0")
    fact("fill-out-bg.size", "64x64")
    same(load("fill-out-bg.png"), original, "the original layer after outpaint")
    layer = load("fill-out.png")
    same(layer.crop(8, 0, 64, 64) if layer else None, original, "the original inside the outpainted layer")
    extend = {"left": 8, "top": 0, "right": 16, "bottom": 8}
    same(layer, daemon("outpaint", {"image": {"path": photo64}, "extend": extend}, "fill-out"),
         "outpaint fill layer vs the daemon's output")
    common("outpaint", "outpaint: a meadow (seed 3)", "56x40", "0,0", "56x40")
    fact("outpaint-bg.offsets", "8,0")
    same(load("outpaint.png"), daemon("outpaint", {"image": {"path": photo32}, "extend": extend, "model": "tiny",
                                                    "prompt": "a meadow", "seed": 3, "steps": 3, "window": 64}, "outpaint",
                                      preview=True),
         "outpaint layer vs the daemon's output")
    check_preview("outpaint", "outpaint", "decoded")


def check_upscale():
    common("upscale", "upscale: realesr-animevideov3-x2", "64x64", "0,0", "64x64")
    same(load("upscale.png"), daemon("upscale", {"image": {"path": photo32}, "model": "realesr-animevideov3-x2"},
                                     "upscale"), "upscale layer vs the daemon's output")
    common("lanczos", "upscale: lanczos3", "48x48", "0,0", "48x48")
    same(load("lanczos.png"), daemon("upscale", {"image": {"path": photo32}, "model": "lanczos3", "scale": 1.5},
                                     "lanczos"), "lanczos3 layer vs the daemon's output")
    expect(facts.get("last-values.name", "").startswith("upscale: lanczos3"),
           "RUN-WITH-LAST-VALS reuses lanczos3: %r" % facts.get("last-values.name"))
    fact("last-values.canvas", "72x72")
    fact("last-values.size", "72x72")
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    left = [n for n in os.listdir(runtime) if n.startswith("diffusiond-gimp-")] if runtime else []
    expect(left == [], "job folders left in $XDG_RUNTIME_DIR: %s" % left)


def off_grid(image):
    """How many of a 16-bit image's samples an 8-bit one could not hold (not v * 257)."""
    return sum(1 for row in image.rows for v in row if v % 257) if image is not None and image.depth == 16 else 0


def check_sixteen_bits(prefix, bits):
    """The layer of a high-precision image came back at 16 bits and equals, sample for sample, the daemon's own
    16-bit output for the 16-bit PNG of the image the plug-in sent; an 8-bit trip could not give it."""
    fact(prefix + ".bits", bits)  # the image kept its precision
    common(prefix, "upscale: lanczos3", "64x64", "0,0", "64x64")
    source, layer = load(prefix + "-source.png"), load(prefix + ".png")
    if source is None or layer is None:
        return
    expect(source.depth == 16 and layer.depth == 16, "%s: exported at %d and %d bits, not 16"
           % (prefix, source.depth, layer.depth))
    expect(off_grid(source) > 0, "%s: the test image's samples are on the 8-bit grid" % prefix)
    expect(off_grid(layer) > 0, "%s: the layer holds only 8-bit values widened: the result travelled as 8-bit" % prefix)
    ref = daemon("upscale", {"image": {"path": os.path.join(out, prefix + "-source.png")}, "model": "lanczos3",
                             "scale": 2}, prefix)
    if expect(ref is not None and ref.depth == 16, "%s: the daemon's own output is not 16-bit" % prefix):
        same(layer, ref, "%s layer vs the daemon's 16-bit output for the 16-bit image" % prefix)


def check_precision():
    check_sixteen_bits("precision", "250")  # GIMP_PRECISION_U16_GAMMA
    check_sixteen_bits("precision-float", "650")  # GIMP_PRECISION_FLOAT_GAMMA


def check_precision_model():
    fact("precision-model.bits", "250")
    common("precision-model", "inpaint: a cat (seed 5)", "16x12", "8,8", "32x32")
    source, layer = load("precision-model-source.png"), load("precision-model.png")
    if source is None or layer is None:
        return
    expect(source.depth == 16 and layer.depth == 16, "exported at %d and %d bits, not 16" % (source.depth, layer.depth))
    expect(off_grid(source) > 0, "the test image's samples are on the 8-bit grid")
    mask = os.path.join(out, "precision-model-mask.png")
    png.write_grey(mask, 32, 32, lambda x, y: 255 if 8 <= x < 24 and 8 <= y < 20 else 0)
    ref = daemon("inpaint", {"model": "tiny-inpaint", "prompt": "a cat", "seed": 5, "steps": 2,
                             "image": {"path": os.path.join(out, "precision-model-source.png")}, "mask": {"path": mask}},
                 "precision-model")
    if expect(ref is not None and ref.depth == 16, "the daemon's own inpaint of the 16-bit image is not 16-bit"):
        same(layer, ref.crop(8, 8, 16, 12), "16-bit inpaint layer vs the daemon's 16-bit output")


def check_precision_inpaint():
    fact("precision-inpaint.bits", "250")
    fact("precision-inpaint.lost", "0")  # no 16-bit pixel outside the mask was rounded to 8 bits
    expect(int(facts.get("precision-inpaint.kept", "0")) > 0, "the layer holds pixels outside the mask")
    expect(int(facts.get("precision-inpaint.changed", "0")) > 0, "the fill changed pixels inside the mask")
    expect(int(facts.get("precision-inpaint.off-grid", "0")) > 0, "the test image's samples are off the 8-bit grid")
    common("precision-inpaint", "inpaint: fill edge", "16x12", "8,8", "32x32")


def check_interactive():
    listed = subprocess.run([os.environ["DIFFUSIONCTL"], "call", "models.list", "--quiet"], capture_output=True,
                            text=True, timeout=60)
    models = json.loads(listed.stdout or "{}").get("models", [])
    for procedure, kind in (("upscale", "upscaler"), ("generate", "stable-diffusion")):
        wanted = ",".join(m["name"] for m in models if m["kind"] == kind)
        shown = re.findall(r"dialog plug-in-diffusiond-%s models=(.*)" % procedure, log)
        expect(shown == [wanted], "the %s dialog offers models.list's %s models %r, not %r" % (procedure, kind, wanted, shown))
    loras = ",".join(m["name"] for m in models if m["kind"] == "lora" and not m.get("error"))
    shown = re.findall(r"dialog plug-in-diffusiond-generate loras=(.*)", log)
    expect(shown == [loras] and loras, "the generate dialog offers models.list's LoRAs %r, not %r" % (loras, shown))
    expect(facts.get("dialog-upscale.name", "").startswith("upscale: lanczos3"),
           "the upscale dialog came up with the last values: %r" % facts.get("dialog-upscale.name"))
    fact("dialog-upscale.canvas", "72x72")
    fact("dialog-upscale.on-top", "yes")
    expect(facts.get("dialog-generate.name", "").startswith("generate: a dialog fox (seed 11)"),
           "the generate dialog came up with the last values: %r" % facts.get("dialog-generate.name"))
    fact("dialog-generate.size", "32x32")
    same(load("dialog-generate.png"), daemon("generate", {"model": "tiny", "prompt": "a dialog fox", "seed": 11, "steps": 2,
                                                          "width": 32, "height": 32,
                                                          "loras": [{"name": "sd1_loha", "weight": 1.0}]},
                                             "dialog-generate", preview=True),
         "the dialog's generate layer (LoRA sd1_loha picked in the dialog) vs the daemon's output")
    check_preview("generate", "dialog-generate", "shown")  # in the preview window


def check_interactive_control():
    listed = subprocess.run([os.environ["DIFFUSIONCTL"], "call", "models.list", "--quiet"], capture_output=True,
                            text=True, timeout=60)
    check_dialog_control(json.loads(listed.stdout or "{}").get("models", []))


def fitting(models, kind, model):
    """models.list's names of `kind` that go with the Stable Diffusion `model`: its family's, or of a family the
    daemon could not tell (as the dialogs filter them)."""
    family = next((m.get("family") for m in models if m["kind"] == "stable-diffusion" and m["name"] == model), None)
    known = ("sd1", "sd2", "sdxl", "sdxl-refiner")
    return [m["name"] for m in models if m["kind"] == kind and not m.get("error")
            and (family is None or m.get("family") in (family, None) or m.get("family") not in known)]


def check_dialog_control(models):
    """The generation dialogs offer models.list's ControlNets of the model's family and capabilities' preprocessor
    names; the img2img dialog's ControlNet choice (a layer that is not the active one as the control image) lands in
    the request's `control`: the layer equals the daemon's output for that request, which the control changes;
    Repeat sends it again from the last values."""
    controlnets = fitting(models, "controlnet", "tiny")
    expect("sd1-a" in controlnets and "sd2-a" not in controlnets and "sdxl-a" not in controlnets,
           "the fixture ControlNets of the tiny model's family: %r" % controlnets)
    for procedure in ("generate", "img2img"):
        shown = re.findall(r"dialog plug-in-diffusiond-%s controlnets=(.*)" % procedure, log)
        expect(shown == [",".join(controlnets)], "the %s dialog offers the ControlNets %r, not %r"
               % (procedure, ",".join(controlnets), shown))
    caps = subprocess.run([os.environ["DIFFUSIONCTL"], "call", "capabilities", "--quiet"], capture_output=True,
                          text=True, timeout=60)
    ops = {op["method"]: op for op in json.loads(caps.stdout or "{}").get("operations", [])}
    wanted = ops.get("img2img", {}).get("params_schema", {}).get("properties", {}).get("control", {}) \
        .get("items", {}).get("properties", {}).get("preprocess", {}).get("enum", [])
    shown = re.findall(r"dialog plug-in-diffusiond-img2img preprocessors=(.*)", log)
    expect(wanted and shown == [",".join(wanted)], "the img2img dialog offers the preprocessors %r, not %r"
           % (",".join(wanted), shown))
    common("dialog-control", "img2img: a dialog castle (seed 13)", "32x32", "0,0", "32x32")
    common("dialog-control-again", "img2img: a dialog castle (seed 13)", "32x32", "0,0", "32x32")
    # steps 5 at strength 0.8 run steps 1-4; start 0.3 and end 0.8 leave steps 2 and 3 to the ControlNet
    request = {"model": "tiny", "prompt": "a dialog castle", "strength": 0.8, "seed": 13, "steps": 5,
               "image": {"path": photo32}, "loras": [{"name": "sd1_loha", "weight": 1.0}]}
    control = [{"model": "sd1-a", "image": {"path": os.path.join(out, "dialog-control-image.png")}, "weight": 1.5,
                "start": 0.3, "end": 0.8, "preprocess": "invert"}]
    ref = daemon("img2img", dict(request, control=control), "dialog-control")
    same(load("dialog-control.png"), ref, "the img2img dialog's layer (ControlNet sd1-a on the layer 'control') vs "
         "the daemon's output for the request with that control")
    same(load("dialog-control-again.png"), ref, "Repeat of the ControlNet img2img (last values) vs the daemon's output")
    plain = daemon("img2img", request, "dialog-control-plain")
    expect(ref is not None and plain is not None and pixels(ref) != pixels(plain),
           "the ControlNet does not change the daemon's output: the test proves nothing")
    for name, value in (("weight", 0.3), ("start", 0.0), ("end", 1.0), ("preprocess", "none")):
        other = daemon("img2img", dict(request, control=[dict(control[0], **{name: value})]), "dialog-control-" + name)
        expect(ref is not None and other is not None and pixels(ref) != pixels(other),
               "the control's %s does not change the daemon's output: the test proves nothing" % name)


def check_preview_cancel():
    """The preview window's Cancel ended the job: the procedure did not finish, its progress said cancelled, the
    image is as it was (scripts/test_gimp.sh checks the daemon's -32800)."""
    fact("preview-cancel.outcome", "cancelled")  # GIMP_PDB_CANCEL: neither a result nor an error
    fact("preview-cancel.layers", "1")
    fact("preview-cancel.canvas", "64x64")
    expect(previews("generate", "shown"), "no preview was shown before the Cancel")
    progress = os.environ.get("DIFFUSIOND_GIMP_PROGRESS_LOG", "")
    lines = open(progress).read().split("\n") if progress and os.path.exists(progress) else []
    expect("diffusiond generate: cancelled" in lines, "the progress never said cancelled: %r" % lines[-3:])


def check_call():
    try:
        names = [m["name"] for m in json.loads(facts.get("call.models", "{}")).get("models", [])]
    except ValueError:
        names = []
    expect("tiny-inpaint" in names and "realesr-animevideov3-x2" in names,
           "-call models.list returns the daemon's models: %r" % facts.get("call.models"))
    expect(json.loads(facts.get("call.ping", "{}")).get("pong") is True, "-call ping: %r" % facts.get("call.ping"))


checks = {"generate": check_generate, "img2img": check_img2img, "inpaint": check_inpaint,
          "outpaint": check_outpaint, "upscale": check_upscale, "call": check_call,
          "precision": check_precision, "precision-inpaint": check_precision_inpaint,
          "precision-model": check_precision_model, "interactive": check_interactive,
          "interactive-control": check_interactive_control, "preview-cancel": check_preview_cancel}
try:
    checks[scenario]()
except Exception as error:  # a missing file or a broken PNG is a failure of this scenario, not a crash
    failures.append("%s: %s" % (type(error).__name__, error))
for failure in failures:
    print("  %s: %s" % (scenario, failure))
sys.exit(1 if failures else 0)
