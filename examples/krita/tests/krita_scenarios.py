"""Krita scenarios: diffusiond_krita.api inside real Krita (kritarunner, offscreen), against the real daemon.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=examples/krita:examples/krita/tests \\
        kritarunner -s krita_scenarios RESULTS_FILE

Environment: DIFFUSIOND_SOCKET (the tiny fixture models: DIFFUSIOND_TEST_MODEL, DIFFUSIOND_TEST_UPSCALER),
DIFFUSIOND_RESTRICTED_SOCKET (a daemon with --allow-dir elsewhere). Every scenario proves the pixels landed:
the new layer, its name, the pixels it changed and those it did not, and equality with the daemon's own output
for the same request and seed, obtained here independently of the plug-in (core client, our own PNGs).
Writes one "PASS name" / "FAIL name: why" line per scenario to RESULTS_FILE.
"""
import os
import threading
import time
import traceback

from krita import Krita, Selection

from diffusiond_krita import api, core
from diffusiond_krita import document as kdoc

SOCKET = os.environ["DIFFUSIOND_SOCKET"]
RESTRICTED = os.environ.get("DIFFUSIOND_RESTRICTED_SOCKET")
MODEL = os.environ.get("DIFFUSIOND_TEST_MODEL", "tiny")
UPSCALER = os.environ.get("DIFFUSIOND_TEST_UPSCALER", "tiny_compact")
INPAINT_MODEL = os.environ.get("DIFFUSIOND_TEST_INPAINT_MODEL", "tiny-inpaint")

scenarios = []


def scenario(fn):
    scenarios.append(fn)
    return fn


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def pattern(w, h, seed=0):
    """Opaque BGRA test card: gradients plus a checker, different per seed."""
    out = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            i = (y * w + x) * 4
            out[i] = (x * 255 // max(1, w - 1) + seed * 37) & 255
            out[i + 1] = (y * 255 // max(1, h - 1) + seed * 11) & 255
            out[i + 2] = 230 if ((x // 8) + (y // 8)) % 2 else 40
            out[i + 3] = 255
    return bytes(out)


def new_document(w, h, seed=0, depth="U8"):
    doc = Krita.instance().createDocument(w, h, "scenario", "RGBA", depth, "", 72.0)
    if depth == "U8":
        doc.rootNode().childNodes()[0].setPixelData(pattern(w, h, seed), 0, 0, w, h)
    doc.refreshProjection()
    doc.waitForDone()
    return doc


def snapshot(doc):
    doc.refreshProjection()
    doc.waitForDone()
    return (doc.width(), doc.height(), [n.name() for n in doc.rootNode().childNodes()],
            bytes(doc.pixelData(0, 0, doc.width(), doc.height())))


def select(doc, x, y, w, h, grey=None):
    """A rectangular selection; with grey=(gx, gy, gw, gh, level) a part of it at a partial level."""
    sel = Selection()
    sel.select(x, y, w, h, 255)
    if grey is not None:
        gx, gy, gw, gh, level = grey
        sel.setPixelData(bytes([level]) * (gw * gh), gx, gy, gw, gh)
    doc.setSelection(sel)
    return bytes(doc.selection().pixelData(0, 0, doc.width(), doc.height()))


def daemon(method, params, images=None):
    """The daemon's own output for a request: (width, height, BGRA) of the first image, via core directly."""
    params = dict(params)
    for member, png in (images or {}).items():
        params[member] = {"base64": core.base64.b64encode(png).decode("ascii")}
    params["output"] = {"format": "png"}
    result = core.BlockingClient(SOCKET, timeout=120).call(method, params)
    return kdoc.decode_image(core.result_images(result)[0][0])


def png_of(bgra, w, h):
    return core.encode_png(w, h, core.bgra_to_rgba(bgra), 4)


def region(bgra, width, x, y, w, h):
    return kdoc.crop(bgra, width, x, y, w, h)


def layer_pixels(node, x, y, w, h):
    return bytes(node.pixelData(x, y, w, h))


def layers(doc):
    """The root's children bottom to top, without the global selection mask."""
    return [n for n in doc.rootNode().childNodes() if n.type() != "selectionmask"]


def check_new_top_layer(doc, before, node, name):
    names = [n.name() for n in layers(doc)]
    expected = [n for n in before[2] if n != "Selection Mask"] + [name]
    check(names == expected, "layers %r, expected %r" % (names, expected))
    check(node.name() == name, "layer named %r, expected %r" % (node.name(), name))
    check(layers(doc)[-1].name() == name and node.type() == "paintlayer", "the new layer is not the top paint layer")


def diff_outside(a, b, width, height, rect):
    """Pixels differing between two BGRA images outside rect (x, y, w, h); count."""
    x0, y0, w, h = rect
    count = 0
    for y in range(height):
        for x in range(width):
            if x0 <= x < x0 + w and y0 <= y < y0 + h:
                continue
            i = (y * width + x) * 4
            if a[i:i + 4] != b[i:i + 4]:
                count += 1
    return count


@scenario
def generate_on_canvas():
    doc = new_document(64, 48)
    before = snapshot(doc)
    node = api.generate(doc, "a red fox", MODEL, steps=2, seed=42)
    check_new_top_layer(doc, before, node, "generate: a red fox [seed 42]")
    w, h, own = daemon("generate", {"model": MODEL, "prompt": "a red fox", "steps": 2, "seed": 42, "width": 64, "height": 48})
    check(layer_pixels(node, 0, 0, 64, 48) == own, "layer differs from the daemon's own output")
    check(node.bounds().width() == 64 and node.bounds().height() == 48, "layer bounds %r" % node.bounds())
    check(bytes(doc.rootNode().childNodes()[0].pixelData(0, 0, 64, 48)) == pattern(64, 48), "background changed")
    text = bytes(doc.annotation(kdoc.ANNOTATION_TYPE)).decode("utf-8")
    check("Seed: 42" in text and text.startswith("a red fox"), "parameters annotation %r" % text)


@scenario
def generate_at_selection_bounds():
    doc = new_document(64, 48)
    select(doc, 8, 16, 30, 20)
    before = snapshot(doc)
    node = api.generate(doc, "a boat", MODEL, steps=2, seed=9, sampler="euler_a")
    check_new_top_layer(doc, before, node, "generate: a boat [seed 9]")
    b = node.bounds()
    check((b.x(), b.y(), b.width(), b.height()) == (8, 16, 30, 20), "layer bounds %r, expected the selection's" % b)
    w, h, own = daemon("generate", {"model": MODEL, "prompt": "a boat", "steps": 2, "seed": 9, "sampler": "euler_a",
                                    "width": 32, "height": 24})
    check(layer_pixels(node, 8, 16, 30, 20) == region(own, w, 0, 0, 30, 20), "layer differs from the daemon's output")
    after = snapshot(doc)
    check(diff_outside(before[3], after[3], 64, 48, (8, 16, 30, 20)) == 0, "pixels outside the selection changed")


@scenario
def img2img_on_selection():
    doc = new_document(64, 48, seed=1)
    select(doc, 16, 8, 32, 32)
    before = snapshot(doc)
    node = api.img2img(doc, "oil painting", MODEL, strength=0.5, steps=4, seed=7)
    check_new_top_layer(doc, before, node, "img2img: oil painting (strength 0.5) [seed 7]")
    source = png_of(region(pattern(64, 48, 1), 64, 16, 8, 32, 32), 32, 32)
    w, h, own = daemon("img2img", {"model": MODEL, "prompt": "oil painting", "strength": 0.5, "steps": 4, "seed": 7,
                                   "width": 32, "height": 32}, {"image": source})
    check(layer_pixels(node, 16, 8, 32, 32) == own, "layer differs from the daemon's img2img of the selection")
    after = snapshot(doc)
    check(diff_outside(before[3], after[3], 64, 48, (16, 8, 32, 32)) == 0, "pixels outside the selection changed")
    check(after[3] != before[3], "nothing changed inside the selection")


@scenario
def inpaint_with_a_model():
    doc = new_document(64, 48, seed=2)
    mask = select(doc, 16, 16, 24, 16)
    before = snapshot(doc)
    node = api.inpaint(doc, "a cat", MODEL, steps=2, seed=3)
    check_new_top_layer(doc, before, node, "inpaint: a cat [seed 3]")
    b = node.bounds()
    check((b.x(), b.y(), b.width(), b.height()) == (16, 16, 24, 16), "layer not cropped to the mask: %r" % b)
    _, _, own = daemon("inpaint", {"model": MODEL, "prompt": "a cat", "steps": 2, "seed": 3},
                       {"image": png_of(pattern(64, 48, 2), 64, 48), "mask": core.encode_png(64, 48, mask, 1)})
    check(layer_pixels(node, 16, 16, 24, 16) == region(own, 64, 16, 16, 24, 16), "layer differs from the daemon's inpaint")
    after = snapshot(doc)
    check(after[3] == own, "the document does not show the daemon's inpaint result")
    check(diff_outside(before[3], after[3], 64, 48, (16, 16, 24, 16)) == 0, "pixels outside the mask changed")
    check(region(after[3], 64, 16, 16, 24, 16) != region(before[3], 64, 16, 16, 24, 16), "no pixel changed inside the mask")


@scenario
def inpaint_keeps_the_selections_grey_levels():
    doc = new_document(64, 48, seed=12)
    mask = select(doc, 16, 16, 24, 16, grey=(16, 16, 8, 16, 128))
    check(mask[16 * 64 + 16] == 128 and mask[16 * 64 + 30] == 255, "selection grey levels not set up")
    before = snapshot(doc)
    node = api.inpaint(doc, fill="edge")
    image = png_of(pattern(64, 48, 12), 64, 48)
    _, _, own = daemon("inpaint", {"fill": "edge"}, {"image": image, "mask": core.encode_png(64, 48, mask, 1)})
    after = snapshot(doc)
    check(after[3] == own, "the document does not show the daemon's fill with the grey mask")
    binary = bytes(255 if v else 0 for v in mask)
    _, _, hard = daemon("inpaint", {"fill": "edge"}, {"image": image, "mask": core.encode_png(64, 48, binary, 1)})
    check(region(hard, 64, 16, 16, 8, 16) != region(own, 64, 16, 16, 8, 16),
          "the grey part of the selection was sent as full repaint")
    check(region(hard, 64, 24, 16, 16, 16) == region(own, 64, 24, 16, 16, 16), "the fully selected part differs")
    check(diff_outside(before[3], after[3], 64, 48, (16, 16, 24, 16)) == 0, "pixels outside the mask changed")
    check(node.bounds().width() == 24, "layer bounds %r" % node.bounds())


@scenario
def inpaint_with_an_inpainting_model():
    doc = new_document(64, 48, seed=10)
    mask = select(doc, 8, 8, 16, 24)
    before = snapshot(doc)
    node = api.inpaint(doc, "a window", INPAINT_MODEL, steps=2, seed=11, feather=1)
    check_new_top_layer(doc, before, node, "inpaint: a window [seed 11]")
    b = node.bounds()
    check((b.x(), b.y(), b.width(), b.height()) == (5, 5, 22, 30), "layer not cropped to mask + feather reach: %r" % b)
    _, _, own = daemon("inpaint", {"model": INPAINT_MODEL, "prompt": "a window", "steps": 2, "seed": 11, "feather": 1},
                       {"image": png_of(pattern(64, 48, 10), 64, 48), "mask": core.encode_png(64, 48, mask, 1)})
    after = snapshot(doc)
    check(after[3] == own, "the document does not show the daemon's inpaint")
    check(diff_outside(before[3], after[3], 64, 48, (5, 5, 22, 30)) == 0, "pixels beyond the mask's reach changed")


@scenario
def inpaint_without_a_model_fills():
    doc = new_document(64, 48, seed=3)
    mask = select(doc, 40, 4, 12, 12)
    before = snapshot(doc)
    node = api.inpaint(doc, fill="edge", grow=2)
    check_new_top_layer(doc, before, node, "inpaint (fill edge)")
    b = node.bounds()
    check((b.x(), b.y(), b.width(), b.height()) == (38, 2, 16, 16), "layer not cropped to mask + grow: %r" % b)
    _, _, own = daemon("inpaint", {"fill": "edge", "grow": 2},
                       {"image": png_of(pattern(64, 48, 3), 64, 48), "mask": core.encode_png(64, 48, mask, 1)})
    after = snapshot(doc)
    check(after[3] == own, "the document does not show the daemon's fill")
    check(diff_outside(before[3], after[3], 64, 48, (38, 2, 16, 16)) == 0, "pixels outside mask + grow changed")
    check(region(after[3], 64, 40, 4, 12, 12) != region(before[3], 64, 40, 4, 12, 12), "the fill changed nothing")


@scenario
def inpaint_needs_a_selection():
    doc = new_document(16, 16)
    before = snapshot(doc)
    try:
        api.inpaint(doc, fill="edge")
    except core.DiffusiondError as error:
        check("select" in error.message and error.code is None, "message %r" % error.message)
    else:
        raise Failure("inpaint without a selection did not fail")
    check(snapshot(doc) == before, "document changed")


@scenario
def outpaint_grows_the_canvas_with_the_original_in_place():
    doc = new_document(40, 32, seed=4)
    before = snapshot(doc)
    node = api.outpaint(doc, left=8, top=0, right=16, bottom=8, fill="mirror")
    check_new_top_layer(doc, before, node, "outpaint (left 8, right 16, bottom 8; fill mirror)")
    check((doc.width(), doc.height()) == (64, 40), "canvas is %dx%d, expected 64x40" % (doc.width(), doc.height()))
    after = snapshot(doc)
    check(region(after[3], 64, 8, 0, 40, 32) == pattern(40, 32, 4), "the original is not in place at (8, 0)")
    _, _, own = daemon("outpaint", {"extend": {"left": 8, "top": 0, "right": 16, "bottom": 8}, "fill": "mirror"},
                       {"image": png_of(pattern(40, 32, 4), 40, 32)})
    check(layer_pixels(node, 0, 0, 64, 40) == own, "layer differs from the daemon's outpaint")
    background = doc.rootNode().childNodes()[0]
    check(bytes(background.pixelData(8, 0, 40, 32)) == pattern(40, 32, 4), "the background layer moved")


@scenario
def outpaint_with_a_model():
    doc = new_document(32, 32, seed=5)
    node = api.outpaint(doc, right=16, top=8, prompt="more sky", model=MODEL, steps=2, seed=5)
    check(node.name() == "outpaint: more sky (top 8, right 16) [seed 5]", "name %r" % node.name())
    check((doc.width(), doc.height()) == (48, 40), "canvas %dx%d" % (doc.width(), doc.height()))
    after = snapshot(doc)
    check(region(after[3], 48, 0, 8, 32, 32) == pattern(32, 32, 5), "the original is not in place at (0, 8)")
    _, _, own = daemon("outpaint", {"extend": {"left": 0, "top": 8, "right": 16, "bottom": 0}, "prompt": "more sky",
                                    "model": MODEL, "steps": 2, "seed": 5},
                       {"image": png_of(pattern(32, 32, 5), 32, 32)})
    check(layer_pixels(node, 0, 0, 48, 40) == own, "layer differs from the daemon's outpaint")


@scenario
def upscale_with_a_network():
    doc = new_document(24, 16, seed=6)
    before = snapshot(doc)
    node = api.upscale(doc, UPSCALER, tile=16, overlap=4)
    w, h, own = daemon("upscale", {"model": UPSCALER, "tile": 16, "overlap": 4},
                       {"image": png_of(pattern(24, 16, 6), 24, 16)})
    check((doc.width(), doc.height()) == (w, h) and w > 24, "canvas %dx%d, daemon %dx%d" % (doc.width(), doc.height(), w, h))
    check_new_top_layer(doc, before, node, "upscale: %s (%dx%d)" % (UPSCALER, w, h))
    check(layer_pixels(node, 0, 0, w, h) == own, "layer differs from the daemon's upscale")
    b = node.bounds()
    check((b.width(), b.height()) == (w, h), "layer is not full size: %r" % b)


@scenario
def upscale_to_a_given_scale():
    doc = new_document(20, 10, seed=7)
    node = api.upscale(doc, "lanczos3", scale=2.5)
    check((doc.width(), doc.height()) == (50, 25), "canvas %dx%d, expected 50x25" % (doc.width(), doc.height()))
    _, _, own = daemon("upscale", {"model": "lanczos3", "scale": 2.5}, {"image": png_of(pattern(20, 10, 7), 20, 10)})
    check(layer_pixels(node, 0, 0, 50, 25) == own, "layer differs from the daemon's upscale")


def cancel_at_second_step(call):
    """Runs call() with api.on_event cancelling (from another thread) at the second sampling step."""
    seen = []

    def on_event(kind, value):
        seen.append(kind)
        if kind == "progress" and value.stage == "sampling" and len([k for k in seen if k == "progress"]) >= 2 \
                and "cancel" not in seen:
            seen.append("cancel")
            threading.Thread(target=api.cancel).start()
    api.on_event = on_event
    try:
        call()
    except core.DiffusiondError as error:
        return error, seen
    finally:
        api.on_event = None
    raise Failure("the job was not cancelled (events %r)" % seen[-5:])


@scenario
def cancel_mid_generate_leaves_the_document_untouched():
    doc = new_document(64, 64, seed=8)
    select(doc, 0, 0, 64, 64)
    before = snapshot(doc)
    error, seen = cancel_at_second_step(lambda: api.generate(doc, "slow", MODEL, steps=1000))
    check(error.code == core.CANCELLED, "error %r %r, expected -32800" % (error.code, error.message))
    check("cancel" in seen, "cancelled before sampling")
    check(snapshot(doc) == before, "the document changed")
    status = core.BlockingClient(SOCKET, timeout=30).call("status")
    check(status["running"] is None and status["queue_length"] == 0, "the job still runs: %r" % status["running"])


@scenario
def cancel_mid_outpaint_keeps_the_canvas():
    doc = new_document(32, 32, seed=9)
    before = snapshot(doc)
    error, _ = cancel_at_second_step(lambda: api.outpaint(doc, right=32, prompt="slow", model=MODEL, steps=1000))
    check(error.code == core.CANCELLED, "error %r, expected -32800" % error.code)
    check(snapshot(doc) == before, "the document changed (canvas %dx%d)" % (doc.width(), doc.height()))


@scenario
def no_daemon_running():
    doc = new_document(16, 16)
    before = snapshot(doc)
    api.socket_path = "/nonexistent-diffusiond-krita/diffusiond.sock"
    try:
        api.generate(doc, "x", MODEL)
    except core.DaemonNotRunning as error:
        check(error.message.startswith("diffusiond is not running"), "message %r" % error.message)
    else:
        raise Failure("no error without a daemon")
    finally:
        api.socket_path = None
    check(snapshot(doc) == before, "document changed")


@scenario
def daemon_error_message_reaches_the_user():
    doc = new_document(16, 16)
    before = snapshot(doc)
    try:
        api.generate(doc, "x", "no-such-model", steps=1)
    except core.DiffusiondError as error:
        check(error.code == -32602, "code %r" % error.code)
        check(error.message.startswith('invalid params: model "no-such-model" not found'), "message %r" % error.message)
    else:
        raise Failure("no error for an unknown model")
    try:
        api.generate(doc, "x", MODEL, steps=5000)
    except core.DiffusiondError as error:
        check(error.code == -32602 and error.data.get("field") == "steps", "error %r %r" % (error.code, error.data))
    else:
        raise Failure("no error for steps=5000")
    check(snapshot(doc) == before, "document changed")


def pattern16(w, h):
    """Opaque 16-bit BGRA (little-endian) test card whose samples are not 8-bit values widened (v * 257)."""
    import struct
    out = bytearray()
    for y in range(h):
        for x in range(w):
            out += struct.pack("<4H", (x * 65535 // max(1, w - 1)) ^ 0x0101, (y * 4099 + 3) & 0xFFFF,
                               60000 if ((x // 8) + (y // 8)) % 2 else 1001, 65535)
    return bytes(out)


def diff_outside16(a, b, width, height, rect):
    x0, y0, w, h = rect
    return sum(1 for y in range(height) for x in range(width)
               if not (x0 <= x < x0 + w and y0 <= y < y0 + h) and a[(y * width + x) * 8:(y * width + x) * 8 + 8]
               != b[(y * width + x) * 8:(y * width + x) * 8 + 8])


@scenario
def sixteen_bit_inpaint_is_lossless_outside_the_mask():
    doc = Krita.instance().createDocument(48, 32, "u16", "RGBA", "U16", "", 72.0)
    source = pattern16(48, 32)
    doc.rootNode().childNodes()[0].setPixelData(source, 0, 0, 48, 32)
    mask = select(doc, 16, 8, 16, 16)
    before = snapshot(doc)
    check(before[3] == source, "test document not set up in 16 bits")
    node = api.inpaint(doc, "a cat", MODEL, steps=2, seed=3)
    check_new_top_layer(doc, before, node, "inpaint: a cat [seed 3]")
    check(doc.colorDepth() == "U16", "the document's depth changed to %s" % doc.colorDepth())
    png = core.encode_png(48, 32, core.bgra16_to_rgba16be(source), 4, depth=16)
    params = {"model": MODEL, "prompt": "a cat", "steps": 2, "seed": 3, "output": {"format": "png"},
              "image": {"base64": core.base64.b64encode(png).decode("ascii")},
              "mask": {"base64": core.base64.b64encode(core.encode_png(48, 32, mask, 1)).decode("ascii")}}
    data = core.result_images(core.BlockingClient(SOCKET, timeout=120).call("inpaint", params))[0][0]
    check(core.decode_png(data)[3] == 16, "the daemon's inpaint of a 16-bit image is not 16-bit")
    _, _, own = kdoc.decode_image(data, 8)
    after = snapshot(doc)
    check(after[3] == own, "the document does not show the daemon's 16-bit inpaint")
    check(diff_outside16(source, after[3], 48, 32, (16, 8, 16, 16)) == 0, "16-bit pixels outside the mask changed")
    check(region(after[3], 96, 32, 8, 32, 16) != region(source, 96, 32, 8, 32, 16), "no pixel changed inside the mask")


@scenario
def sixteen_bit_img2img_lands_in_the_documents_depth():
    doc = Krita.instance().createDocument(32, 32, "u16", "RGBA", "U16", "", 72.0)
    source = pattern16(32, 32)
    doc.rootNode().childNodes()[0].setPixelData(source, 0, 0, 32, 32)
    node = api.img2img(doc, "a castle", MODEL, strength=0.5, steps=2, seed=8)
    png = core.encode_png(32, 32, core.bgra16_to_rgba16be(source), 4, depth=16)
    params = {"model": MODEL, "prompt": "a castle", "strength": 0.5, "steps": 2, "seed": 8, "width": 32,
              "height": 32, "output": {"format": "png"}, "image": {"base64": core.base64.b64encode(png).decode("ascii")}}
    data = core.result_images(core.BlockingClient(SOCKET, timeout=120).call("img2img", params))[0][0]
    _, _, own = kdoc.decode_image(data, 8)
    check(layer_pixels(node, 0, 0, 32, 32) == own, "layer differs from the daemon's img2img of the 16-bit pixels")


@scenario
def float_documents_are_refused_clearly():
    doc = new_document(16, 16, depth="F32")
    layers = len(doc.rootNode().childNodes())
    try:
        api.generate(doc, "x", MODEL)
    except core.DiffusiondError as error:
        check(error.code is None and "16-bit integer" in error.message and "F32" in error.message,
              "message %r" % error.message)
    else:
        raise Failure("a float document was not refused")
    check(len(doc.rootNode().childNodes()) == layers, "a layer was added")


def noise_document(size=160):
    """An opaque noise image: its PNG is far over core.INLINE_LIMIT, so it goes by path."""
    doc = Krita.instance().createDocument(size, size, "noise", "RGBA", "U8", "", 72.0)
    noise = bytearray(size * size * 4)
    x = 12345
    for i in range(len(noise)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        noise[i] = 255 if i % 4 == 3 else (x >> 16) & 255
    doc.rootNode().childNodes()[0].setPixelData(bytes(noise), 0, 0, size, size)
    return doc


def inpaint_noise(socket):
    doc = noise_document()
    mask = select(doc, 60, 60, 20, 20)
    before = snapshot(doc)
    check(len(png_of(before[3], 160, 160)) > core.INLINE_LIMIT, "test image too small to go by path")
    events, sent = [], []
    original_build = core.Request.build

    def build(self, workspace, inline=None):
        params = original_build(self, workspace, inline)
        sent.append(params)
        return params
    core.Request.build = build
    api.socket_path, api.on_event = socket, lambda kind, value: events.append(kind)
    try:
        node = api.inpaint(doc, fill="edge")
    finally:
        api.socket_path, api.on_event = None, None
        core.Request.build = original_build
    _, _, own = daemon("inpaint", {"fill": "edge"}, {"image": png_of(before[3], 160, 160),
                                                      "mask": core.encode_png(160, 160, mask, 1)})
    check(snapshot(doc)[3] == own, "the document does not show the daemon's fill")
    check(node.name() == "inpaint (fill edge)", "name %r" % node.name())
    return events, sent


@scenario
def big_images_go_by_path():
    events, sent = inpaint_noise(SOCKET)
    check("fallback" not in events and len(sent) == 1, "events %r" % events)
    check("path" in sent[0]["image"] and "path" in sent[0]["output"], "sent %r" % {k: list(v) for k, v in sent[0].items()
                                                                                   if isinstance(v, dict)})
    check("base64" in sent[0]["mask"], "a small mask should go inline")


@scenario
def paths_refused_by_the_daemon_fall_back_to_base64():
    if not RESTRICTED:
        raise Failure("DIFFUSIOND_RESTRICTED_SOCKET not set")
    events, sent = inpaint_noise(RESTRICTED)
    check("fallback" in events, "no -32005 fallback happened: %r" % events)
    check(len(sent) == 2 and "base64" in sent[1]["image"] and sent[1]["output"] == {"format": "png"},
          "the retry did not go inline")


@scenario
def private_folders_are_removed():
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    left = [n for n in os.listdir(runtime) if n.startswith("diffusiond-krita-")] if runtime else ["no XDG_RUNTIME_DIR"]
    check(left == [], "left behind: %r" % left)


def __main__(args):
    print("krita_scenarios: start at %.1f" % time.time(), flush=True)
    Krita.instance().setBatchmode(True)
    results_path = args[0] if args else None
    lines = []
    only = os.environ.get("KRITA_SCENARIOS")
    for fn in scenarios:
        if only and fn.__name__ not in only.split(","):
            continue
        began = time.monotonic()
        try:
            fn()
            lines.append("PASS %s (%.1f s)" % (fn.__name__, time.monotonic() - began))
        except Exception as error:  # a scenario's failure, reported, never a hang
            detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
            lines.append("FAIL %s: %s" % (fn.__name__, detail.strip().replace("\n", "\n    ")))
        print(lines[-1], flush=True)
    if results_path:
        with open(results_path, "w") as f:
            f.write("\n".join(lines) + "\n")
    for doc in Krita.instance().documents():
        doc.setModified(False)
        doc.close()
    print("krita_scenarios: end at %.1f" % time.time(), flush=True)
