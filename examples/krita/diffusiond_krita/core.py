"""The protocol core of the Krita plug-in: plain Python, no Krita, no Qt (unit-tested on its own).

diffusiond speaks JSON-RPC 2.0, one JSON object per line, on a Unix socket (protocol/README.md). The plug-in opens
one connection per job, so closing it (or Krita dying) cancels the job. A job's messages are `queued` /
`started` / `progress` notifications and then exactly one response; `Job` turns them into events for the user
interface. Images travel by path through a private 0700 folder under $XDG_RUNTIME_DIR (`Workspace`, removed after
each job), inline as base64 for small images, and inline for everything when the daemon refuses a path (-32005,
it runs with --allow-dir).
"""
import base64
import copy
import itertools
import json
import os
import shutil
import socket
import struct
import tempfile
import threading
import zlib

PATH_NOT_ALLOWED = -32005
NO_SUCH_JOB = -32006
CANCELLED = -32800

# Images up to this many encoded bytes go inline (base64) instead of through a file.
INLINE_LIMIT = 64 * 1024
# Outputs of at most this many pixels come back inline.
INLINE_OUTPUT_PIXELS = 64 * 64

# The request members that hold input images, per method (their values are {"path"} or {"base64"}).
IMAGE_MEMBERS = ("image", "mask")
# The operations that take a `preview` member (the generation ones).
PREVIEW_METHODS = ("generate", "img2img", "inpaint", "outpaint")


class DiffusiondError(Exception):
    """A failed job: the daemon's error code, its message (shown to the user as it is) and its data.

    `code` is None for errors found on this side (daemon not running, document not supported)."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self):
        return self.message

    @property
    def cancelled(self):
        return self.code == CANCELLED


class DaemonNotRunning(DiffusiondError):
    """Nobody listens on the socket."""

    def __init__(self, path, reason=""):
        message = ("diffusiond is not running: nothing answers on %s%s. Start it with "
                   "`diffusiond serve --models DIR` (or point DIFFUSIOND_SOCKET at its socket)."
                   % (path, " (%s)" % reason if reason else ""))
        super().__init__(None, message, {"socket": path})
        self.path = path


class ConnectionLost(DiffusiondError):
    def __init__(self, detail="the daemon closed the connection before answering"):
        super().__init__(None, "diffusiond: %s; see the daemon's log." % detail)


def default_socket_path(environ=None):
    """$DIFFUSIOND_SOCKET, else the daemon's default: $XDG_RUNTIME_DIR/diffusiond/diffusiond.sock, else
    /tmp/diffusiond-$UID/diffusiond.sock (Sources/diffusiond/DefaultSocketPath.swift)."""
    environ = os.environ if environ is None else environ
    if environ.get("DIFFUSIOND_SOCKET"):
        return environ["DIFFUSIOND_SOCKET"]
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        return os.path.join(runtime, "diffusiond", "diffusiond.sock")
    return "/tmp/diffusiond-%d/diffusiond.sock" % os.getuid()


def error_from_object(error):
    """The DiffusiondError for a JSON-RPC error object."""
    if not isinstance(error, dict):
        return DiffusiondError(None, "diffusiond sent a malformed error: %r" % (error,))
    code = error.get("code")
    message = error.get("message") or "diffusiond error %s" % code
    return DiffusiondError(code, message, error.get("data"))


def encode_message(message):
    return json.dumps(message, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode("utf-8") + b"\n"


def request(request_id, method, params=None):
    message = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


class LineBuffer:
    """Splits a byte stream into JSON messages, one per line (a trailing \\r and blank lines are ignored)."""

    def __init__(self):
        self._pending = b""

    def feed(self, data):
        self._pending += data
        messages = []
        while True:
            end = self._pending.find(b"\n")
            if end < 0:
                return messages
            line, self._pending = self._pending[:end], self._pending[end + 1:]
            line = line.rstrip(b"\r").strip()
            if not line:
                continue
            try:
                messages.append(json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as error:
                raise DiffusiondError(None, "diffusiond sent a line that is not JSON: %s" % error)

    @property
    def pending(self):
        return len(self._pending)


_ids = itertools.count(1)


def new_job_id():
    """Unique across Krita's connections, so `cancel` names exactly this job."""
    return "krita-%d-%d" % (os.getpid(), next(_ids))


def format_duration(ms):
    seconds = max(0, int(round(ms / 1000.0)))
    if seconds < 60:
        return "%d s" % seconds
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return "%d min %02d s" % (minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return "%d h %02d min" % (hours, minutes)


class Progress:
    """What the user sees of a job: a one-line text and, when known, a fraction for the progress bar."""

    def __init__(self, text, fraction=None, stage=None, remaining_ms=None, position=None):
        self.text = text
        self.fraction = fraction
        self.stage = stage
        self.remaining_ms = remaining_ms
        self.position = position

    def __repr__(self):
        return "Progress(%r, %r)" % (self.text, self.fraction)


STAGE_NAMES = {
    "load_model": "loading the model",
    "sampling": "sampling",
    "decode": "decoding",
    "encode": "encoding",
    "upscale": "upscaling",
    "refine": "refining",
    "fill": "filling",
}


def describe_queued(params):
    position = params.get("position")
    if position == 1:
        return Progress("queued: runs next", 0.0, "queued", position=position)
    return Progress("queued: position %s" % position, 0.0, "queued", position=position)


def describe_progress(params):
    """A `progress` notification's params as text: stage, step/steps or tile/tiles, ETA."""
    stage = str(params.get("stage", ""))
    text = STAGE_NAMES.get(stage, stage.replace("_", " "))
    fraction = None
    if params.get("steps"):
        text += " %d/%d" % (params.get("step", 0), params["steps"])
        fraction = min(1.0, float(params.get("step", 0)) / params["steps"])
    elif params.get("tiles"):
        text += " tile %d/%d" % (params.get("tile", 0), params["tiles"])
        fraction = min(1.0, float(params.get("tile", 0)) / params["tiles"])
    remaining = params.get("remaining_ms")
    if remaining is not None:
        text += " \u00b7 ETA %s" % format_duration(remaining)
    return Progress(text, fraction, stage, remaining)


class Job:
    """One request on its own connection, as a state machine fed with the daemon's messages.

    `handle(message)` returns a list of events: ("queued", Progress), ("started", method), ("progress",
    Progress), ("result", result) or ("error", DiffusiondError); after the last two `done` is True."""

    def __init__(self, method, params, job_id=None):
        self.method = method
        self.params = params
        self.id = job_id or new_job_id()
        self.done = False
        self.result = None
        self.error = None
        self.cancel_requested = False
        self._cancel_id = None

    def request_bytes(self):
        return encode_message(request(self.id, self.method, self.params))

    def cancel_bytes(self):
        """The `cancel` request for this job (sent on the same connection)."""
        self.cancel_requested = True
        self._cancel_id = self.id + "-cancel"
        return encode_message(request(self._cancel_id, "cancel", {"id": self.id}))

    def handle(self, message):
        if self.done:
            return []
        if "method" in message and "id" not in message:
            params = message.get("params") or {}
            if params.get("id") != self.id:
                return []
            kind = message["method"]
            if kind == "queued":
                return [("queued", describe_queued(params))]
            if kind == "started":
                return [("started", params.get("method", self.method))]
            if kind == "progress":
                return [("progress", describe_progress(params))]
            return []  # notifications this version does not know are ignored (protocol: Versioning)
        if message.get("id") == self._cancel_id and self._cancel_id is not None:
            # The cancel request's own answer: -32006 means the job finished already; its response follows.
            return []
        if message.get("id") == self.id or (message.get("id") is None and "error" in message):
            self.done = True
            if "error" in message:
                self.error = error_from_object(message["error"])
                return [("error", self.error)]
            self.result = message.get("result", {})
            return [("result", self.result)]
        return []


class Workspace:
    """A private 0700 folder for one job's files, under $XDG_RUNTIME_DIR when there is one; removed by close()."""

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        runtime = environ.get("XDG_RUNTIME_DIR", "")
        base = runtime if runtime.startswith("/") and os.path.isdir(runtime) else None
        self.path = tempfile.mkdtemp(prefix="diffusiond-krita-", dir=base)
        os.chmod(self.path, 0o700)
        self._count = itertools.count(1)

    def file(self, name):
        return os.path.join(self.path, name)

    def write(self, name, data):
        path = self.file(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def close(self):
        if self.path and os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Request:
    """An operation request whose images are PNG bytes, turned into params by path or inline.

    `inputs` maps request members (`image`, `mask`, or a path into the params such as ("control", 0, "image"))
    to PNG bytes; `output_pixels` is the expected output size (small outputs come back inline); `preview` asks
    generation operations for a preview file."""

    def __init__(self, method, params, inputs=None, output_pixels=None, preview_every=None):
        self.method = method
        self.params = dict(params)
        self.inputs = dict(inputs or {})
        self.output_pixels = output_pixels
        self.preview_every = preview_every
        self.inline = False
        self.preview_path = None

    def build(self, workspace, inline=None):
        """The params to send. inline=True sends every image as base64 and asks for an inline output."""
        if inline is not None:
            self.inline = inline
        params = copy.deepcopy(self.params)  # nested members (control entries) get their images here, not in self.params
        for member, data in self.inputs.items():
            if self.inline or workspace is None or len(data) <= INLINE_LIMIT:
                image = {"base64": base64.b64encode(data).decode("ascii")}
            else:
                name = member if isinstance(member, str) else "-".join(str(part) for part in member)
                image = {"path": workspace.write("%s-%d.png" % (name, next(workspace._count)), data)}
            _set_member(params, member, image)
        if "output" not in params and "outputs" not in params:
            small = self.output_pixels is not None and self.output_pixels <= INLINE_OUTPUT_PIXELS
            if self.inline or workspace is None or small:
                params["output"] = {"format": "png"}
            else:
                params["output"] = {"path": workspace.file("result-%d.png" % next(workspace._count))}
        self.preview_path = None
        if (self.preview_every and not self.inline and workspace is not None and "preview" not in params
                and self.method in PREVIEW_METHODS and params.get("model")):
            self.preview_path = workspace.file("preview.png")
            params["preview"] = {"every": int(self.preview_every), "path": self.preview_path}
        return params


def _set_member(params, member, value):
    """params[member] = value, where member is a name or a path of names and list indices."""
    if isinstance(member, str):
        params[member] = value
        return
    target = params
    for part in member[:-1]:
        target = target[part]
    target[member[-1]] = value


def result_images(result):
    """The result's images as a list of (PNG-or-other file bytes, description) pairs, first image first."""
    described = []
    if isinstance(result.get("images"), list):
        described = result["images"]
    elif isinstance(result.get("image"), dict):
        described = [result["image"]]
    images = []
    for image in described:
        if "base64" in image:
            data = base64.b64decode(image["base64"])
        elif "path" in image:
            with open(image["path"], "rb") as f:
                data = f.read()
        else:
            raise DiffusiondError(None, "diffusiond returned an image with neither path nor base64")
        images.append((data, image))
    if not images:
        raise DiffusiondError(None, "diffusiond returned no image")
    return images


def result_seed(result):
    images = result.get("images")
    if isinstance(images, list) and images and "seed" in images[0]:
        return images[0]["seed"]
    seeds = result.get("seeds")
    if isinstance(seeds, list) and seeds:
        return seeds[0]
    return None


def result_parameters(result):
    """The A1111 `parameters` text of the first image, if the operation made one."""
    images = result.get("images")
    if isinstance(images, list) and images:
        return images[0].get("parameters")
    return None


def layer_name(method, prompt="", seed=None, extra=None):
    """`generate: a red fox [seed 42]` — operation, prompt (shortened) and seed, as the issue asks."""
    name = method
    prompt = " ".join((prompt or "").split())
    if len(prompt) > 48:
        prompt = prompt[:47] + "\u2026"
    if prompt:
        name += ": " + prompt
    if extra:
        name += " (%s)" % extra
    if seed is not None:
        name += " [seed %s]" % seed
    return name


def choices(capabilities, models_list):
    """What the docker's combo boxes offer, all from the daemon: operations it serves, Stable Diffusion
    models (inpainting ones marked), upscalers, samplers, schedulers, LoRAs and ControlNets (with their
    families, so the docker offers those that fit the chosen model)."""
    operations = [op.get("method") for op in capabilities.get("operations", []) if isinstance(op, dict)]
    sd, inpainting, upscalers = [], [], []
    by_kind = {}
    families = {}
    for model in models_list.get("models", []):
        if model.get("error"):
            continue
        by_kind.setdefault(model.get("kind", "?"), []).append(model.get("name"))
        families[(model.get("kind"), model.get("name"))] = model.get("family")
        if model.get("kind") == "stable-diffusion":
            sd.append(model["name"])
            if model.get("inpainting"):
                inpainting.append(model["name"])
        elif model.get("kind") == "upscaler":
            upscalers.append(model["name"])
    # The networkless upscalers the upscale schema names (lanczos3, bicubic) are always there.
    for op in capabilities.get("operations", []):
        if isinstance(op, dict) and op.get("method") == "upscale":
            schema = op.get("params_schema") or op.get("params") or {}
            description = ((schema.get("properties") or {}).get("model") or {}).get("description", "")
            for plain in ("lanczos3", "bicubic"):
                if plain in description and plain not in upscalers:
                    upscalers.append(plain)

    def names(member):
        values = capabilities.get(member, [])
        return [v if isinstance(v, str) else v.get("name") for v in values if v]

    return {
        "operations": operations,
        "models": sd,
        "inpainting_models": inpainting,
        "upscalers": upscalers,
        "samplers": names("samplers"),
        "schedulers": names("schedulers"),
        "loras": by_kind.get("lora", []),
        "controlnets": by_kind.get("controlnet", []),
        "families": families,  # (kind, name) -> family as models.list tells it (None when it does not)
        "version": capabilities.get("daemon_version"),
        "by_kind": by_kind,  # every kind the daemon lists (ControlNets, LoRAs, ... as it grows), for the UI to offer
    }


def fitting(choices, kind, model):
    """The names of `kind` (lora, controlnet) that can go with the Stable Diffusion `model`: the same family, or
    a family the daemon could not tell (it then decides, and its message says why not)."""
    family = choices["families"].get(("stable-diffusion", model))
    names = choices["by_kind"].get(kind, [])
    known = ("sd1", "sd2", "sdxl", "sdxl-refiner")
    return [n for n in names if family is None or choices["families"].get((kind, n)) in (family, None)
            or choices["families"].get((kind, n)) not in known]


class BlockingClient:
    """Runs one job on its own blocking connection (for diffusiond_krita.api and tests).

    `cancel()` may be called from another thread: it sends `cancel` for the running job."""

    def __init__(self, path=None, timeout=None):
        self.path = path or default_socket_path()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sock = None
        self._job = None
        self._cancelled = False

    def _connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            sock.close()
            raise DaemonNotRunning(self.path, error.strerror or str(error))
        except OSError as error:
            sock.close()
            raise DaemonNotRunning(self.path, error.strerror or str(error))
        return sock

    def call(self, method, params=None):
        """A quick method (capabilities, models.list, status, ping) on a fresh connection."""
        return self._run(Job(method, params), None)

    def run(self, req, on_event=None, workspace=None):
        """Runs a Request (images by path through `workspace`, or inline), retrying inline on -32005."""
        own = workspace is None
        workspace = workspace or Workspace()
        try:
            try:
                return self._run(Job(req.method, req.build(workspace)), on_event, req)
            except DiffusiondError as error:
                if error.code != PATH_NOT_ALLOWED or req.inline:
                    raise
            if on_event:
                on_event("fallback", "the daemon refuses file paths (--allow-dir): sending the images inline")
            return self._run(Job(req.method, req.build(workspace, inline=True)), on_event, req)
        finally:
            if own:
                workspace.close()

    def _run(self, job, on_event, req=None):
        if self._cancelled:
            raise DiffusiondError(CANCELLED, "request cancelled before it was sent")
        sock = self._connect()
        lines = LineBuffer()
        with self._lock:
            self._sock, self._job = sock, job
        try:
            sock.sendall(job.request_bytes())
            while not job.done:
                try:
                    data = sock.recv(1 << 16)
                except socket.timeout:
                    raise ConnectionLost("no answer within %s s" % self.timeout)
                if not data:
                    raise ConnectionLost()
                for message in lines.feed(data):
                    for kind, value in job.handle(message):
                        if on_event:
                            on_event(kind, value)
            if job.error is not None:
                raise job.error
            return job.result
        finally:
            with self._lock:
                self._sock, self._job = None, None
            sock.close()

    def cancel(self):
        """Cancels the running job (any thread); a job not sent yet is not sent."""
        with self._lock:
            self._cancelled = True
            if self._sock is not None and self._job is not None and not self._job.done:
                try:
                    self._sock.sendall(self._job.cancel_bytes())
                except OSError:
                    pass


# --- PNG, the plain way (what goes to the daemon: 8-bit grey or RGBA, unfiltered rows, zlib) ---

def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width, height, pixels, channels, level=1, depth=8):
    """A PNG of grey (channels 1), RGB (3) or RGBA (4) rows, top to bottom; depth 16 takes big-endian samples."""
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels * depth // 8
    if len(pixels) != stride * height:
        raise ValueError("expected %d bytes of pixels, got %d" % (stride * height, len(pixels)))
    raw = bytearray()
    view = memoryview(pixels)
    for y in range(height):
        raw += b"\x00"
        raw += view[y * stride:(y + 1) * stride]
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(bytes(raw), level)) + _chunk(b"IEND", b""))


def bgra_to_rgba(data):
    """Krita's 8-bit RGBA pixel data is B, G, R, A in memory."""
    out = bytearray(data)
    out[0::4] = data[2::4]
    out[2::4] = data[0::4]
    return bytes(out)


rgba_to_bgra = bgra_to_rgba


def bgra16_to_rgba16be(data):
    """Krita's 16-bit RGBA pixel data (B, G, R, A, little-endian) as PNG's big-endian R, G, B, A samples."""
    out = bytearray(len(data))
    for dst, src in ((0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0), (6, 7), (7, 6)):
        out[dst::8] = data[src::8]
    return bytes(out)


def rgba16_to_bgra16(data):
    """Native little-endian R, G, B, A 16-bit samples (Qt's RGBA64) as Krita's B, G, R, A."""
    out = bytearray(data)
    out[0::8], out[1::8] = data[4::8], data[5::8]
    out[4::8], out[5::8] = data[0::8], data[1::8]
    return bytes(out)


def decode_png(data):
    """(width, height, channels, bit depth, pixel bytes) of a non-interlaced PNG (tests and small images)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if interlace or colour == 3:
        raise ValueError("interlaced and palette PNGs are not handled here")
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    bpp = max(1, channels * depth // 8)
    stride = width * channels * depth // 8
    raw = zlib.decompress(idat)
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                corner = prev[i - bpp] if i >= bpp else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return width, height, channels, depth, bytes(out)
