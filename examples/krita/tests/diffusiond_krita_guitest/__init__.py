"""Test-only Krita plug-in: drives the real diffusiond docker in Krita's GUI (under Xvfb), then quits Krita.

scripts/test_krita.sh installs it next to diffusiond_krita in a throwaway profile. It opens a document, waits
for the docker to fill its choices from the daemon, clicks Run for a generate (and checks the layer against the
daemon's own output), starts a slow job, takes the README's screenshot of the docker mid-job, clicks Cancel
(checks -32800 and an untouched document), inpaints a selection without a model, then points the docker at
a socket nobody listens on (checks the daemon-not-running message). One PASS/FAIL line per check goes to
$DIFFUSIOND_GUITEST_RESULTS; the screenshot to $DIFFUSIOND_GUITEST_SCREENSHOT. Every wait has a deadline.
"""
import faulthandler
import os
import sys
import time
import traceback

from krita import Extension, Krita, Selection

from diffusiond_krita import core
from diffusiond_krita import document as kdoc
from diffusiond_krita.docker import NO_MODEL, DiffusiondDocker
from diffusiond_krita.qt import QtCore, QtWidgets

RESULTS = os.environ.get("DIFFUSIOND_GUITEST_RESULTS")
SCREENSHOT = os.environ.get("DIFFUSIOND_GUITEST_SCREENSHOT")
SOCKET = os.environ.get("DIFFUSIOND_SOCKET")
RESTRICTED = os.environ.get("DIFFUSIOND_RESTRICTED_SOCKET")
MODEL = os.environ.get("DIFFUSIOND_TEST_MODEL", "tiny")
W, H = 64, 48


class Wait:
    def __init__(self, label, predicate, timeout=30.0):
        self.label, self.predicate, self.timeout = label, predicate, timeout


def pattern(w, h):
    out = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            i = (y * w + x) * 4
            out[i:i + 4] = bytes(((x * 2) & 255, (y * 2) & 255, 200 if (x // 16 + y // 16) % 2 else 60, 255))
    return bytes(out)


def pixels(doc):
    doc.refreshProjection()
    doc.waitForDone()
    return bytes(doc.pixelData(0, 0, doc.width(), doc.height()))


def paint_layers(doc):
    return [n for n in doc.rootNode().childNodes() if n.type() != "selectionmask"]


class GuiTest(Extension):
    def __init__(self, parent):
        super().__init__(parent)
        self.lines = []
        self.timer = None
        self.steps = None
        self.waiting = None
        self.deadline = None
        self.started = time.monotonic()
        self.docker = None

    def setup(self):
        QtCore.QTimer.singleShot(500, self.begin)

    def createActions(self, window):
        pass

    # -- the driver: the script yields Waits; a timer polls them

    def begin(self):
        self.steps = self.script()
        self.timer = QtCore.QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(100)
        self.advance()

    def advance(self):
        try:
            self.waiting = next(self.steps)
            self.deadline = time.monotonic() + self.waiting.timeout
        except StopIteration:
            self.finish()
        except Exception:
            self.record(False, "script", traceback.format_exc())
            self.finish()

    def tick(self):
        if self.waiting is None:
            return
        try:
            ready = self.waiting.predicate()
        except Exception:
            ready = False
        if ready:
            self.waiting = None
            self.advance()
        elif time.monotonic() > self.deadline:
            state = ""
            if self.docker is not None:
                state = "; docker status %r, progress %r" % (self.docker.status.text(), self.docker.progress.format())
            self.record(False, "wait: " + self.waiting.label, "not within %.0f s%s" % (self.waiting.timeout, state))
            self.waiting = None
            self.finish()
        elif time.monotonic() - self.started > 140:
            self.record(False, "overall", "the GUI test ran out of time")
            self.finish()

    def record(self, ok, name, detail=""):
        line = ("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, str(detail).strip().replace("\n", "\n    ")))
        self.lines.append(line)
        print("diffusiond guitest: " + line, flush=True)

    def check(self, name, condition, detail=""):
        self.record(bool(condition), name, detail)
        return bool(condition)

    def finish(self):
        if self.timer is not None:
            self.timer.stop()
        if RESULTS:
            with open(RESULTS, "w") as f:
                f.write("\n".join(self.lines) + "\n")
        for doc in Krita.instance().documents():
            doc.setModified(False)
        QtCore.QTimer.singleShot(8000, lambda: os._exit(0))  # Krita's own quit, or this
        Krita.instance().action("file_quit").trigger()

    # -- the scenario

    def script(self):
        app = Krita.instance()
        yield Wait("main window", lambda: app.activeWindow() is not None and app.activeWindow().qwindow().isVisible(), 60)
        doc = app.createDocument(W, H, "guitest", "RGBA", "U8", "", 72.0)
        doc.rootNode().childNodes()[0].setPixelData(pattern(W, H), 0, 0, W, H)
        app.activeWindow().addView(doc)
        yield Wait("view", lambda: app.activeDocument() is not None)
        dockers = [d for d in app.dockers() if isinstance(d, DiffusiondDocker)]
        if not self.check("docker exists", len(dockers) == 1, "%d diffusiond dockers" % len(dockers)):
            return
        docker = self.docker = dockers[0]
        docker.show()
        docker.raise_()
        yield Wait("choices from the daemon", lambda: docker.model.findText(MODEL) >= 0 and docker.sampler.count() > 0)
        self.check("model, sampler, scheduler filled from the daemon",
                   docker.sampler.findText("euler") >= 0 and docker.scheduler.findText("karras") >= 0
                   and docker.status.text().startswith("diffusiond"), docker.status.text())

        # 1. Generate by clicking Run.
        docker.operation.setCurrentIndex(docker.operation.findData("generate"))
        docker.model.setCurrentIndex(docker.model.findText(MODEL))
        docker.prompt.setPlainText("a red fox")
        docker.sampler.setCurrentIndex(docker.sampler.findText("euler"))
        docker.scheduler.setCurrentIndex(docker.scheduler.findText("karras"))
        docker.steps.setValue(2)
        docker.cfg.setValue(6.5)
        docker.seed.setValue(42)
        before = pixels(doc)
        docker.run_button.click()
        yield Wait("generate done", lambda: docker.run_button.isEnabled() and docker.job is not None and docker.job.done, 60)
        name = "generate: a red fox [seed 42]"
        top = paint_layers(doc)[-1]
        self.check("Run adds the generated layer on top", top.name() == name and len(paint_layers(doc)) == 2,
                   "%r / %s" % ([n.name() for n in paint_layers(doc)], docker.status.text()))
        own = core.BlockingClient(SOCKET, timeout=60).call("generate", {
            "model": MODEL, "prompt": "a red fox", "sampler": "euler", "scheduler": "karras", "steps": 2,
            "cfg_scale": 6.5, "seed": 42, "width": W, "height": H, "output": {"format": "png"}})
        _, _, expected = kdoc.decode_image(core.result_images(own)[0][0])
        self.check("the layer equals the daemon's output for the same request", bytes(top.pixelData(0, 0, W, H)) == expected)
        self.check("status names the layer", docker.status.text() == "done: new layer \u201c%s\u201d" % name, docker.status.text())
        self.check("pixels landed", pixels(doc) != before)

        # 1b. The LoRA and ControlNet choices are models.list's (those of the model's family); with both chosen the
        # layer equals the daemon's output for the request with `loras` and `control` (the active layer as the
        # control image).
        lora, controlnet = os.environ.get("DIFFUSIOND_TEST_LORA"), os.environ.get("DIFFUSIOND_TEST_CONTROLNET")
        listed = core.BlockingClient(SOCKET, timeout=60).call("models.list")["models"]
        family = {m["name"]: m.get("family") for m in listed if m.get("kind") == "stable-diffusion"}[MODEL]
        for kind, combo in (("lora", docker.lora), ("controlnet", docker.controlnet)):
            wanted = [m["name"] for m in listed if m.get("kind") == kind and not m.get("error")
                      and m.get("family") in (family, None, "unknown")]
            offered = [combo.itemText(i) for i in range(1, combo.count())]
            self.check("the %s choices are models.list's for the model's family" % kind,
                       offered == wanted and len(wanted) > 0, "%r vs %r" % (offered, wanted))
        docker.lora.setCurrentIndex(docker.lora.findText(lora))
        docker.lora_weight.setValue(0.7)
        docker.controlnet.setCurrentIndex(docker.controlnet.findText(controlnet))
        docker.control_weight.setValue(0.8)
        control_png = kdoc.encode_bgra(doc, bytes(doc.activeNode().pixelData(0, 0, W, H)), W, H)
        docker.run_button.click()
        yield Wait("generate with LoRA and ControlNet done", lambda: docker.run_button.isEnabled() and docker.job.done, 60)
        top = paint_layers(doc)[-1]
        own = core.BlockingClient(SOCKET, timeout=60).call("generate", {
            "model": MODEL, "prompt": "a red fox", "sampler": "euler", "scheduler": "karras", "steps": 2,
            "cfg_scale": 6.5, "seed": 42, "width": W, "height": H, "output": {"format": "png"},
            "loras": [{"name": lora, "weight": 0.7}],
            "control": [{"model": controlnet, "weight": 0.8,
                         "image": {"base64": core.base64.b64encode(control_png).decode("ascii")}}]})
        _, _, expected = kdoc.decode_image(core.result_images(own)[0][0])
        self.check("LoRA and ControlNet from the docker reach the request", top.name() == name
                   and bytes(top.pixelData(0, 0, W, H)) == expected and len(paint_layers(doc)) == 3,
                   "%s; %s" % (top.name(), docker.status.text()))
        docker.lora.setCurrentIndex(0)
        docker.controlnet.setCurrentIndex(0)

        # 2. A slow job: progress with stage and ETA, preview, screenshot, Cancel.
        docker.steps.setValue(1000)
        docker.seed.setValue(7)
        before = pixels(doc)
        layer_names = [n.name() for n in paint_layers(doc)]
        docker.run_button.click()
        yield Wait("sampling with a preview", lambda: "sampling" in docker.progress.format() and "ETA" in docker.progress.format()
                   and docker.preview.pixmap() is not None and not docker.preview.pixmap().isNull(), 60)
        yield Wait("a few steps", lambda: docker.progress.value() >= 3, 60)
        self.check("progress bar shows stage, step and ETA", docker.progress.format().startswith("sampling ")
                   and "/1000" in docker.progress.format(), docker.progress.format())
        self.check("Cancel is enabled while the job runs", docker.cancel_button.isEnabled() and not docker.run_button.isEnabled())
        if SCREENSHOT:
            QtWidgets.QApplication.processEvents()
            shot = docker.grab()
            self.check("screenshot of the docker during a job", shot.save(SCREENSHOT, "PNG"), SCREENSHOT)
        docker.cancel_button.click()
        yield Wait("cancelled", lambda: docker.job.done and docker.run_button.isEnabled(), 30)
        error_text = docker.status.text()
        self.check("Cancel ends the job with the daemon's -32800", docker.progress.format() == "cancelled"
                   and "cancel" in error_text.lower(), "%s / %s" % (docker.progress.format(), error_text))
        self.check("a cancelled job leaves the document untouched",
                   pixels(doc) == before and [n.name() for n in paint_layers(doc)] == layer_names)
        status = core.BlockingClient(SOCKET, timeout=30).call("status")
        self.check("the daemon runs nothing after the cancel", status["running"] is None, status["running"])

        # 3. Inpaint the selection without a model (a fill).
        sel = Selection()
        sel.select(24, 16, 20, 16, 255)
        doc.setSelection(sel)
        docker.operation.setCurrentIndex(docker.operation.findData("inpaint"))
        docker.model.setCurrentIndex(docker.model.findText(NO_MODEL))
        before = pixels(doc)
        docker.run_button.click()
        yield Wait("inpaint done", lambda: docker.job.done and docker.run_button.isEnabled(), 60)
        top = paint_layers(doc)[-1]
        b = top.bounds()
        after = pixels(doc)
        changed = [i // 4 for i in range(0, len(after), 4) if after[i:i + 4] != before[i:i + 4]]
        inside = all(24 <= p % W < 44 and 16 <= p // W < 32 for p in changed)
        self.check("inpaint fills the selection only", top.name() == "inpaint (fill patchmatch)"
                   and (b.x(), b.y(), b.width(), b.height()) == (24, 16, 20, 16) and changed and inside,
                   "%s %r, %d changed, inside %s; %s" % (top.name(), b, len(changed), inside, docker.status.text()))

        # 4. No daemon: the user sees the daemon-not-running message.
        docker.socket.setText("/nonexistent-diffusiond-krita/diffusiond.sock")  # the docker's Socket field
        docker.socket.editingFinished.emit()
        yield Wait("refresh fails", lambda: docker.status.text().startswith("diffusiond is not running"), 20)
        docker.operation.setCurrentIndex(docker.operation.findData("generate"))
        docker.model.setCurrentIndex(docker.model.findText(MODEL))
        docker.steps.setValue(2)
        layer_names = [n.name() for n in paint_layers(doc)]
        docker.status.setText("")
        docker.run_button.click()
        yield Wait("run fails", lambda: docker.status.text().startswith("diffusiond is not running"), 20)
        self.check("without a daemon Run shows the not-running message and adds nothing",
                   [n.name() for n in paint_layers(doc)] == layer_names and "/nonexistent-diffusiond-krita/" in docker.status.text(),
                   docker.status.text())

        # 5. A daemon with --allow-dir elsewhere refuses the preview file (-32005): the docker resends inline.
        os.environ["DIFFUSIOND_SOCKET"] = RESTRICTED or ""
        docker.socket.setText("")  # empty field: $DIFFUSIOND_SOCKET
        docker.socket.editingFinished.emit()
        yield Wait("restricted daemon's choices", lambda: docker.status.text().startswith("diffusiond ")
                   and docker.model.findText(MODEL) >= 0, 20)
        docker.model.setCurrentIndex(docker.model.findText(MODEL))
        docker.seed.setValue(5)
        docker.run_button.click()
        yield Wait("generate on the restricted daemon", lambda: docker.job.done and docker.run_button.isEnabled(), 60)
        top = paint_layers(doc)[-1]
        self.check("a daemon refusing paths gets the job inline", top.name() == "generate: a red fox [seed 5]"
                   and docker.plan.request.inline and docker.plan.request.preview_path is None,
                   "%s; %s" % (top.name(), docker.status.text()))
        os.environ["DIFFUSIOND_SOCKET"] = SOCKET or ""


def print_exception(kind, value, tb):
    """Instead of Krita's hook, whose modal dialog would stop the test: the traceback goes to the log."""
    sys.stderr.write("diffusiond guitest: uncaught exception:\n" + "".join(traceback.format_exception(kind, value, tb)))
    sys.stderr.flush()


sys.excepthook = print_exception
if os.environ.get("DIFFUSIOND_GUITEST_TRACE"):
    faulthandler.dump_traceback_later(15, repeat=True, file=sys.stderr)
Krita.instance().addExtension(GuiTest(Krita.instance()))
