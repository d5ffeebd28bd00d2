"""diffusiond from Krita's Scripter and batch scripts (kritarunner).

    from diffusiond_krita import api
    doc = Krita.instance().activeDocument()
    layer = api.generate(doc, "a red fox in the snow", "sd15", steps=20, seed=42)

Each function blocks until the job ends, adds one new paint layer above all other layers of the document
(selection masks aside) and returns it. `**params` go into the request as they are (protocol/schema/<method>
.params.json). The socket is $DIFFUSIOND_SOCKET or the daemon's default path; `api.socket_path = PATH`
overrides both. A failed job raises DiffusiondError with the daemon's `code` and `message` (code None when the
daemon is not running or the document is refused; -32800 when cancelled).

Set `api.on_event = callable(kind, value)` to see ("queued"|"progress", Progress), ("started", method),
("fallback", text) while a job runs; `api.cancel()` (from another thread, or from on_event) cancels it.
"""
import threading

from . import core, document as doc_ops
from .core import DaemonNotRunning, DiffusiondError  # noqa: F401  (re-exported for scripts)

socket_path = None
on_event = None
timeout = None  # seconds without a message from the daemon before giving up (None: wait)

_running = []
_running_lock = threading.Lock()


def _socket():
    return socket_path or core.default_socket_path()


def _run(plan):
    client = core.BlockingClient(_socket(), timeout=timeout)
    with _running_lock:
        _running.append(client)
    try:
        # The job's private folder lives until the result file is in the layer.
        with core.Workspace() as workspace:
            result = client.run(plan.request, on_event=on_event, workspace=workspace)
            return plan.finish(result)
    finally:
        with _running_lock:
            _running.remove(client)


def cancel():
    """Cancels every job the API is running (the blocked call then raises DiffusiondError -32800)."""
    with _running_lock:
        clients = list(_running)
    for client in clients:
        client.cancel()
    return len(clients)


def call(method, params=None):
    """Any other method (capabilities, models.list, status, ...): its result."""
    return core.BlockingClient(_socket(), timeout=timeout).call(method, params)


def generate(document, prompt, model, **params):
    """txt2img at the selection's bounds, or the canvas."""
    return _run(doc_ops.plan_generate(document, prompt, model, params))


def img2img(document, prompt, model, strength=0.75, **params):
    """img2img of the selection's bounds, or the canvas."""
    return _run(doc_ops.plan_img2img(document, prompt, model, strength, params))


def inpaint(document, prompt="", model=None, **params):
    """Repaints the selection (grey levels kept as partial repaint); without a model a model-free fill."""
    return _run(doc_ops.plan_inpaint(document, prompt, model, params))


def outpaint(document, left=0, top=0, right=0, bottom=0, prompt="", model=None, **params):
    """Grows the canvas by the given pixels and fills the new area (with a model: paints it)."""
    return _run(doc_ops.plan_outpaint(document, left, top, right, bottom, prompt, model, params))


def upscale(document, model, scale=None, **params):
    """Scales the document to the upscaler's output; the result layer is at full size."""
    return _run(doc_ops.plan_upscale(document, model, scale, params))
