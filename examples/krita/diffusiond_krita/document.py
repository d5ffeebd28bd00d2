"""The Krita side of every operation: what a request takes from the document (pixels, selection) and where
the result goes (a new paint layer above all others). Shared by the scripting API (blocking) and the docker
(non-blocking): `plan_<operation>(document, ...)` returns a Plan whose `request` is sent by either, and whose
`finish(result)` changes the document — only then, so a cancelled or failed job leaves it untouched."""
from krita import Krita

from . import core
from .qt import QtGui

ANNOTATION_TYPE = "diffusiond/parameters"


class Plan:
    """`area` (x, y, w, h, sent width, sent height): the document region the request's pixels cover, for
    images that must line up with them (a ControlNet's control image); None where there is no such region."""

    def __init__(self, document, request, finish, area=None):
        self.document = document
        self.request = request
        self._finish = finish
        self.area = area

    def finish(self, result):
        return self._finish(result)


def _refused(message):
    return core.DiffusiondError(None, message)


def check_document(document):
    if document is None:
        raise _refused("diffusiond: no document is open; open or create one first.")
    model, depth = document.colorModel(), document.colorDepth()
    if model != "RGBA" or depth not in ("U8", "U16"):
        raise _refused(
            "diffusiond works on RGB/Alpha 8- or 16-bit integer documents; this one is %s %s. Convert it with "
            "Image \u25b8 Convert Image Color Space\u2026 (RGB/Alpha, 8- or 16-bit integer/channel) and run it "
            "again." % (model, depth))


def pixel_size(document):
    """Bytes per pixel of the document's BGRA pixel data: 16-bit documents travel losslessly as 16-bit PNGs
    (the daemon reads them, and its inpaint keeps 16 bits where the mask is 0)."""
    return 8 if document.colorDepth() == "U16" else 4


def encode_bgra(document, bgra, w, h):
    """A PNG of BGRA pixel data in the document's depth."""
    if pixel_size(document) == 8:
        return core.encode_png(w, h, core.bgra16_to_rgba16be(bgra), 4, depth=16)
    return core.encode_png(w, h, core.bgra_to_rgba(bgra), 4)


def _settle(document):
    document.refreshProjection()
    document.waitForDone()


def canvas_rect(document):
    return 0, 0, document.width(), document.height()


def selection_rect(document):
    """The selection's bounds clipped to the canvas, or None without a (non-empty) selection."""
    selection = document.selection()
    if selection is None or selection.width() <= 0 or selection.height() <= 0:
        return None
    x0, y0 = max(0, selection.x()), max(0, selection.y())
    x1 = min(document.width(), selection.x() + selection.width())
    y1 = min(document.height(), selection.y() + selection.height())
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def projection(document, x, y, w, h):
    """BGRA bytes of the merged image."""
    _settle(document)
    return bytes(document.pixelData(x, y, w, h))


def projection_png(document, x, y, w, h):
    return encode_bgra(document, projection(document, x, y, w, h), w, h)


def selection_mask_png(document):
    """The selection over the whole canvas as an 8-bit grey PNG (grey levels kept: 255 repaints)."""
    selection = document.selection()
    w, h = document.width(), document.height()
    return core.encode_png(w, h, bytes(selection.pixelData(0, 0, w, h)), 1)


def decode_image(data, bpp=4):
    """(width, height, BGRA bytes) of an image file the daemon wrote, through Qt's decoder; bpp 8 gives 16-bit
    samples (an 8-bit result widened exactly, v * 257, as Krita converts 8 to 16 bits)."""
    image = QtGui.QImage.fromData(data)
    if image.isNull():
        raise _refused("diffusiond returned an image Krita cannot read")
    # ARGB32 is B, G, R, A in memory, as Krita's 8-bit pixel data; RGBA64 is R, G, B, A 16-bit samples.
    image = image.convertToFormat(QtGui.QImage.Format_RGBA64 if bpp == 8 else QtGui.QImage.Format_ARGB32)
    w, h = image.width(), image.height()
    bits = image.constBits()
    bits.setsize(image.bytesPerLine() * h)
    raw = bytes(bits)
    stride = image.bytesPerLine()
    if stride != w * bpp:
        raw = b"".join(raw[y * stride:y * stride + w * bpp] for y in range(h))
    return w, h, core.rgba16_to_bgra16(raw) if bpp == 8 else raw


def crop(bgra, width, x, y, w, h, bpp=4):
    stride = width * bpp
    return b"".join(bgra[(y + row) * stride + x * bpp:(y + row) * stride + (x + w) * bpp] for row in range(h))


def pad_edges(bgra, w, h, pw, ph, bpp=4):
    """Grows a BGRA image to pw x ph by repeating its last column and row (for sizes that must be multiples of 8)."""
    if pw == w and ph == h:
        return bgra
    rows = []
    for y in range(h):
        row = bgra[y * w * bpp:(y + 1) * w * bpp]
        rows.append(row + row[-bpp:] * (pw - w))
    rows += [rows[-1]] * (ph - h)
    return b"".join(rows)


def ceil8(n):
    return (n + 7) // 8 * 8


def top_layer(document):
    """The topmost child of the root that is not a selection mask."""
    nodes = [n for n in document.rootNode().childNodes() if n.type() not in ("selectionmask",)]
    return nodes[-1] if nodes else None


def add_layer(document, name, bgra, x, y, w, h):
    """A new paint layer above all other layers, holding w x h BGRA pixels at (x, y)."""
    root = document.rootNode()
    node = document.createNode(name, "paintlayer")
    root.addChildNode(node, top_layer(document))
    node.setPixelData(bgra, x, y, w, h)
    _settle(document)
    return node


def keep_parameters(document, result, name):
    """The A1111 parameters text of the result, as a document annotation (saved in .kra)."""
    text = core.result_parameters(result)
    if text:
        document.setAnnotation(ANNOTATION_TYPE, "A1111 parameters of the layer \u201c%s\u201d" % name,
                               text.encode("utf-8"))
    return text


def first_image(result, document):
    """The result's first image as BGRA pixel data in the document's depth."""
    data, _ = core.result_images(result)[0]
    return decode_image(data, pixel_size(document))


def _generation_params(prompt, model, params):
    request = {"prompt": prompt}
    if model:
        request["model"] = model
    request.update(params)
    return request


def plan_generate(document, prompt, model, params, preview_every=None):
    check_document(document)
    x, y, w, h = selection_rect(document) or canvas_rect(document)
    request = _generation_params(prompt, model, params)
    request.setdefault("width", ceil8(w))
    request.setdefault("height", ceil8(h))
    req = core.Request("generate", request, output_pixels=request["width"] * request["height"],
                       preview_every=preview_every)

    def finish(result):
        rw, rh, bgra = first_image(result, document)
        cw, ch = min(w, rw), min(h, rh)
        name = core.layer_name("generate", prompt, core.result_seed(result))
        node = add_layer(document, name, crop(bgra, rw, 0, 0, cw, ch, pixel_size(document)), x, y, cw, ch)
        keep_parameters(document, result, name)
        return node
    return Plan(document, req, finish, (x, y, w, h, request["width"], request["height"]))


def plan_img2img(document, prompt, model, strength, params, preview_every=None):
    check_document(document)
    x, y, w, h = selection_rect(document) or canvas_rect(document)
    pw, ph = ceil8(w), ceil8(h)
    source = pad_edges(projection(document, x, y, w, h), w, h, pw, ph, pixel_size(document))
    request = _generation_params(prompt, model, params)
    request["strength"] = strength
    request.setdefault("width", pw)
    request.setdefault("height", ph)
    req = core.Request("img2img", request, inputs={"image": encode_bgra(document, source, pw, ph)},
                       output_pixels=request["width"] * request["height"], preview_every=preview_every)

    def finish(result):
        rw, rh, bgra = first_image(result, document)
        cw, ch = min(w, rw), min(h, rh)
        name = core.layer_name("img2img", prompt, core.result_seed(result), "strength %g" % strength)
        node = add_layer(document, name, crop(bgra, rw, 0, 0, cw, ch, pixel_size(document)), x, y, cw, ch)
        keep_parameters(document, result, name)
        return node
    return Plan(document, req, finish, (x, y, w, h, pw, ph))


def _reach(params):
    """How far beyond the selection the daemon may change pixels: grow + floor(2.5 feather + 0.5) (protocol/masks.md)."""
    grow = params.get("grow", 0) or 0
    feather = params.get("feather", 0) or 0
    if isinstance(feather, dict):
        feather = max(feather.get("x", 0) or 0, feather.get("y", 0) or 0)
    return max(0, int(grow)) + int(2.5 * float(feather) + 0.5)


def plan_inpaint(document, prompt, model, params, preview_every=None):
    check_document(document)
    bounds = selection_rect(document)
    if bounds is None:
        raise _refused("diffusiond inpaint repaints the selection: select the area to repaint first.")
    W, H = document.width(), document.height()
    request = dict(params)
    if model:
        request["model"] = model
        request["prompt"] = prompt
    elif prompt:
        request["prompt"] = prompt
    inputs = {"image": projection_png(document, 0, 0, W, H), "mask": selection_mask_png(document)}
    req = core.Request("inpaint", request, inputs=inputs, output_pixels=W * H, preview_every=preview_every)
    reach = _reach(params)
    x0, y0 = max(0, bounds[0] - reach), max(0, bounds[1] - reach)
    x1, y1 = min(W, bounds[0] + bounds[2] + reach), min(H, bounds[1] + bounds[3] + reach)

    def finish(result):
        rw, rh, bgra = first_image(result, document)
        if (rw, rh) != (W, H):
            raise _refused("diffusiond returned a %dx%d inpaint result for a %dx%d document" % (rw, rh, W, H))
        # Only the area the mask can change: everything outside it equals the document bit for bit.
        if model:
            name = core.layer_name("inpaint", prompt, core.result_seed(result))
        else:
            name = core.layer_name("inpaint", "", None, "fill %s" % result.get("fill", params.get("fill", "")))
        node = add_layer(document, name, crop(bgra, rw, x0, y0, x1 - x0, y1 - y0, pixel_size(document)), x0, y0, x1 - x0, y1 - y0)
        keep_parameters(document, result, name)
        return node
    return Plan(document, req, finish, (0, 0, W, H, W, H))


def plan_outpaint(document, left, top, right, bottom, prompt, model, params, preview_every=None):
    check_document(document)
    if min(left, top, right, bottom) < 0 or left + top + right + bottom == 0:
        raise _refused("diffusiond outpaint: give the pixels to add on at least one side (left, top, right, bottom).")
    W, H = document.width(), document.height()
    request = dict(params)
    request["extend"] = {"left": left, "top": top, "right": right, "bottom": bottom}
    if model:
        request["model"] = model
        request["prompt"] = prompt
    elif prompt:
        request["prompt"] = prompt
    NW, NH = W + left + right, H + top + bottom
    req = core.Request("outpaint", request, inputs={"image": projection_png(document, 0, 0, W, H)},
                       output_pixels=NW * NH, preview_every=preview_every)

    def finish(result):
        rw, rh, bgra = first_image(result, document)
        if (rw, rh) != (NW, NH):
            raise _refused("diffusiond returned %dx%d for an outpaint to %dx%d" % (rw, rh, NW, NH))
        document.resizeImage(-left, -top, NW, NH)  # the canvas grows; the layers keep their place on the image
        _settle(document)
        sides = ", ".join("%s %d" % (k, v) for k, v in (("left", left), ("top", top), ("right", right),
                                                        ("bottom", bottom)) if v)
        if model:
            name = core.layer_name("outpaint", prompt, core.result_seed(result), sides)
        else:
            name = core.layer_name("outpaint", "", None, "%s; fill %s" % (sides, result.get("fill", "")))
        node = add_layer(document, name, bgra, 0, 0, rw, rh)
        keep_parameters(document, result, name)
        return node
    return Plan(document, req, finish)


def plan_upscale(document, model, scale, params):
    check_document(document)
    W, H = document.width(), document.height()
    request = dict(params)
    if model:
        request["model"] = model
    if scale is not None:
        request["scale"] = scale
    factor = scale or 4
    req = core.Request("upscale", request, inputs={"image": projection_png(document, 0, 0, W, H)},
                       output_pixels=int(W * H * factor * factor))

    def finish(result):
        rw, rh, bgra = first_image(result, document)
        document.scaleImage(rw, rh, int(document.resolution()), int(document.resolution()), "Bicubic")
        _settle(document)
        name = core.layer_name("upscale", result.get("model", model or ""), None, "%dx%d" % (rw, rh))
        return add_layer(document, name, bgra, 0, 0, rw, rh)
    return Plan(document, req, finish)


def add_control(plan, node, model, weight=1.0):
    """Steers the plan's job with the ControlNet `model`, its control image the layer `node` over the plan's
    area (edges repeated like the image's), so the control lines up with what is repainted."""
    if plan.area is None:
        raise _refused("diffusiond: a ControlNet steers generate, img2img and inpaint; not %s." % plan.request.method)
    if node is None:
        raise _refused("diffusiond: pick the layer that holds the control image (the active layer is used).")
    x, y, w, h, pw, ph = plan.area
    _settle(plan.document)
    pixels = pad_edges(bytes(node.pixelData(x, y, w, h)), w, h, pw, ph, pixel_size(plan.document))
    controls = plan.request.params.setdefault("control", [])
    controls.append({"model": model, "weight": weight})
    plan.request.inputs[("control", len(controls) - 1, "image")] = encode_bgra(plan.document, pixels, pw, ph)
    return plan


def active_document():
    return Krita.instance().activeDocument()
