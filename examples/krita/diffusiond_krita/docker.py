"""The diffusiond docker: prompt, model, operation and sampling settings, Run/Cancel, progress, preview.

Choices come from the daemon (`capabilities`, `models.list`); every request runs as a QtJob (non-blocking
QLocalSocket on the GUI thread); results become new layers through document.plan_* exactly as the scripting
API's do."""
import functools
import os
import traceback

from krita import DockWidget, DockWidgetFactory, DockWidgetFactoryBase, Krita

from . import core, document as doc_ops
from .qt import QtCore, QtGui, QtWidgets
from .qtclient import QtJob

DOCKER_ID = "diffusiond_krita_docker"
OPERATIONS = [("generate", "Generate (selection or canvas)"), ("img2img", "Img2img on selection"),
              ("inpaint", "Inpaint selection"), ("outpaint", "Outpaint to canvas edges"), ("upscale", "Upscale")]
NO_MODEL = "(none: fill only)"
NONE = "(none)"
OWN_SCALE = "model's own"


def guarded(slot):
    """A slot that never lets an exception out (Krita would show a modal traceback): the status line says it."""
    @functools.wraps(slot)
    def wrapper(self, *args):
        try:
            return slot(self, *args)
        except Exception as error:  # a bug of ours: show it, keep the docker usable
            traceback.print_exc()
            self.set_status("diffusiond plug-in error: %s" % error)
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
    return wrapper


class DiffusiondDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("diffusiond")
        self.choices = None
        self.job = None
        self.plan = None
        self.discovery = None
        self._preview_mtime = None
        self._build()
        QtCore.QTimer.singleShot(0, self.refresh)

    # -- widgets

    def _build(self):
        root = QtWidgets.QWidget(self)
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)

        def named(widget, name):
            widget.setObjectName("diffusiond_" + name)
            return widget

        self.operation = named(QtWidgets.QComboBox(), "operation")
        for key, label in OPERATIONS:
            self.operation.addItem(label, key)
        self.prompt = named(QtWidgets.QPlainTextEdit(), "prompt")
        self.prompt.setPlaceholderText("prompt (A1111 syntax)")
        self.prompt.setFixedHeight(60)
        self.negative = named(QtWidgets.QPlainTextEdit(), "negative_prompt")
        self.negative.setPlaceholderText("negative prompt")
        self.negative.setFixedHeight(40)
        self.model = named(QtWidgets.QComboBox(), "model")
        self.sampler = named(QtWidgets.QComboBox(), "sampler")
        self.scheduler = named(QtWidgets.QComboBox(), "scheduler")
        self.strength = named(QtWidgets.QDoubleSpinBox(), "strength")
        self.strength.setRange(0.01, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(0.75)
        self.steps = named(QtWidgets.QSpinBox(), "steps")
        self.steps.setRange(1, 1000)
        self.steps.setValue(20)
        self.cfg = named(QtWidgets.QDoubleSpinBox(), "cfg_scale")
        self.cfg.setRange(0.0, 100.0)
        self.cfg.setSingleStep(0.5)
        self.cfg.setValue(7.0)
        self.seed = named(QtWidgets.QSpinBox(), "seed")
        self.seed.setRange(-1, 2147483647)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("random")
        self.extend = named(QtWidgets.QSpinBox(), "extend")
        self.extend.setRange(0, 4096)
        self.extend.setValue(64)
        self.extend.setSuffix(" px")
        edges = QtWidgets.QHBoxLayout()
        self.edges = {}
        for side in ("left", "top", "right", "bottom"):
            box = named(QtWidgets.QCheckBox(side), "edge_" + side)
            box.setChecked(side == "right")
            self.edges[side] = box
            edges.addWidget(box)
        # LoRAs and ControlNets as models.list has them, those of the chosen model's family.
        self.lora = named(QtWidgets.QComboBox(), "lora")
        self.lora_weight = named(QtWidgets.QDoubleSpinBox(), "lora_weight")
        self.lora_weight.setRange(-4.0, 4.0)
        self.lora_weight.setSingleStep(0.1)
        self.lora_weight.setValue(1.0)
        lora_row = QtWidgets.QHBoxLayout()
        lora_row.addWidget(self.lora, 1)
        lora_row.addWidget(self.lora_weight)
        self.controlnet = named(QtWidgets.QComboBox(), "controlnet")
        self.controlnet.setToolTip("The control image is the active layer over the area the job repaints")
        self.control_weight = named(QtWidgets.QDoubleSpinBox(), "control_weight")
        self.control_weight.setRange(0.0, 4.0)
        self.control_weight.setSingleStep(0.1)
        self.control_weight.setValue(1.0)
        control_row = QtWidgets.QHBoxLayout()
        control_row.addWidget(self.controlnet, 1)
        control_row.addWidget(self.control_weight)
        self.scale = named(QtWidgets.QDoubleSpinBox(), "scale")
        self.scale.setRange(0.0, 16.0)
        self.scale.setSpecialValueText(OWN_SCALE)
        self.scale.setValue(0.0)

        self.socket = named(QtWidgets.QLineEdit(), "socket")
        self.socket.setPlaceholderText(core.default_socket_path())
        self.socket.setToolTip("The daemon's socket; empty: $DIFFUSIOND_SOCKET or the daemon's default")
        self.socket.setText(Krita.instance().readSetting("diffusiond_krita", "socket", ""))
        self.socket.editingFinished.connect(self._socket_changed)

        form.addRow("Socket", self.socket)
        form.addRow("Operation", self.operation)
        form.addRow("Prompt", self.prompt)
        form.addRow("Negative", self.negative)
        form.addRow("Model", self.model)
        form.addRow("LoRA", lora_row)
        form.addRow("ControlNet", control_row)
        form.addRow("Sampler", self.sampler)
        form.addRow("Scheduler", self.scheduler)
        form.addRow("Strength", self.strength)
        form.addRow("Steps", self.steps)
        form.addRow("CFG scale", self.cfg)
        form.addRow("Seed", self.seed)
        form.addRow("Outpaint by", self.extend)
        form.addRow("Edges", edges)
        form.addRow("Upscale", self.scale)

        self.run_button = named(QtWidgets.QPushButton("Run"), "run")
        self.cancel_button = named(QtWidgets.QPushButton("Cancel"), "cancel")
        self.cancel_button.setEnabled(False)
        self.refresh_button = named(QtWidgets.QToolButton(), "refresh")
        self.refresh_button.setText("\u21bb")
        self.refresh_button.setToolTip("Reconnect and reload the daemon's models")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.refresh_button)

        self.progress = named(QtWidgets.QProgressBar(), "progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        self.preview = named(QtWidgets.QLabel(), "preview")
        self.preview.setAlignment(QtCore.Qt.AlignCenter)
        self.preview.setMinimumHeight(96)
        self.status = named(QtWidgets.QLabel("connecting\u2026"), "status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)

        layout = QtWidgets.QVBoxLayout(root)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.preview)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.setWidget(root)

        self.operation.currentIndexChanged.connect(self._operation_changed)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self._operation_changed()

    def canvasChanged(self, canvas):
        pass

    def socket_path(self):
        return self.socket.text().strip() or core.default_socket_path()

    def _socket_changed(self):
        Krita.instance().writeSetting("diffusiond_krita", "socket", self.socket.text().strip())
        self.refresh()

    def set_status(self, text):
        self.status.setText(text)

    # -- discovery: capabilities, then models.list

    @guarded
    def refresh(self):
        if self.discovery is not None and not self.discovery.done:
            return
        self.set_status("connecting to %s\u2026" % self.socket_path())
        self._caps = None
        self.discovery = QtJob(self.socket_path(), method="capabilities", params=None, parent=self)
        self.discovery.finished.connect(self._got_capabilities)
        self.discovery.start()

    @guarded
    def _got_capabilities(self, result, error):
        if error is not None:
            self.set_status(error.message)
            return
        self._caps = result
        self.discovery = QtJob(self.socket_path(), method="models.list", params=None, parent=self)
        self.discovery.finished.connect(self._got_models)
        self.discovery.start()

    @guarded
    def _got_models(self, result, error):
        if error is not None:
            self.set_status(error.message)
            return
        self.choices = core.choices(self._caps, result)
        self._fill(self.sampler, self.choices["samplers"], keep=True)
        self._fill(self.scheduler, ["automatic"] + [s for s in self.choices["schedulers"] if s != "automatic"], keep=True)
        self._operation_changed()
        self.set_status("diffusiond %s: %d models, %d upscalers, %d LoRAs, %d ControlNets" % (
            self.choices.get("version") or "", len(self.choices["models"]), len(self.choices["upscalers"]),
            len(self.choices["loras"]), len(self.choices["controlnets"])))

    @staticmethod
    def _fill(combo, values, keep=True):
        current = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(values)
        if keep and current in values:
            combo.setCurrentIndex(values.index(current))
        combo.blockSignals(False)

    def _operation_changed(self, *_):
        op = self.operation.currentData()
        generation = op in ("generate", "img2img", "inpaint", "outpaint")
        if self.choices is not None:
            if op == "upscale":
                self._fill(self.model, self.choices["upscalers"])
            elif op in ("inpaint", "outpaint"):
                models = self.choices["models"]
                if op == "inpaint":  # inpainting models first
                    models = self.choices["inpainting_models"] + [m for m in models if m not in self.choices["inpainting_models"]]
                self._fill(self.model, [NO_MODEL] + models)
            else:
                self._fill(self.model, self.choices["models"])
        for widget in (self.prompt, self.negative, self.sampler, self.scheduler, self.steps, self.cfg, self.seed,
                       self.lora, self.lora_weight):
            widget.setEnabled(generation)
        for widget in (self.controlnet, self.control_weight):
            widget.setEnabled(op in ("generate", "img2img", "inpaint"))
        self._model_changed()

    def _model_changed(self, *_):
        if self.choices is None:
            return
        model = self.model.currentText()
        self._fill(self.lora, [NONE] + core.fitting(self.choices, "lora", model))
        self._fill(self.controlnet, [NONE] + core.fitting(self.choices, "controlnet", model))
        self.strength.setEnabled(op in ("img2img", "inpaint", "outpaint"))
        self.extend.setEnabled(op == "outpaint")
        for box in self.edges.values():
            box.setEnabled(op == "outpaint")
        self.scale.setEnabled(op == "upscale")

    # -- run

    def _params(self, op, model):
        params = {}
        if op == "upscale" or not model:
            return params
        if self.negative.toPlainText().strip():
            params["negative_prompt"] = self.negative.toPlainText()
        if self.sampler.currentText():
            params["sampler"] = self.sampler.currentText()
        if self.scheduler.currentText():
            params["scheduler"] = self.scheduler.currentText()
        params["steps"] = self.steps.value()
        params["cfg_scale"] = self.cfg.value()
        if self.seed.value() >= 0:
            params["seed"] = self.seed.value()
        if op in ("inpaint", "outpaint") and abs(self.strength.value() - 1.0) > 1e-9:
            params["strength"] = self.strength.value()
        if self.lora.currentText() not in ("", NONE):
            params["loras"] = [{"name": self.lora.currentText(), "weight": self.lora_weight.value()}]
        return params

    def _with_control(self, plan, op, model):
        controlnet = self.controlnet.currentText()
        if model and op in ("generate", "img2img", "inpaint") and controlnet not in ("", NONE):
            doc_ops.add_control(plan, plan.document.activeNode(), controlnet, self.control_weight.value())
        return plan

    def make_plan(self, document):
        op = self.operation.currentData()
        model = self.model.currentText()
        if model == NO_MODEL:
            model = None
        prompt = self.prompt.toPlainText().strip()
        params = self._params(op, model)
        if op in ("generate", "img2img") and not model:
            raise core.DiffusiondError(None, "diffusiond: no Stable Diffusion model to use; the daemon lists none (\u21bb to reload).")
        if op == "generate":
            return self._with_control(doc_ops.plan_generate(document, prompt, model, params, preview_every=1), op, model)
        if op == "img2img":
            return self._with_control(doc_ops.plan_img2img(document, prompt, model, self.strength.value(), params,
                                                           preview_every=1), op, model)
        if op == "inpaint":
            return self._with_control(doc_ops.plan_inpaint(document, prompt, model, params, preview_every=1), op, model)
        if op == "outpaint":
            n = self.extend.value()
            sides = {side: (n if box.isChecked() else 0) for side, box in self.edges.items()}
            return doc_ops.plan_outpaint(document, sides["left"], sides["top"], sides["right"], sides["bottom"],
                                         prompt, model, params, preview_every=1)
        scale = self.scale.value() or None
        return doc_ops.plan_upscale(document, model or None, scale, params)

    @guarded
    def run(self):
        if self.job is not None and not self.job.done:
            return
        try:
            self.plan = self.make_plan(Krita.instance().activeDocument())
        except core.DiffusiondError as error:
            self.set_status(error.message)
            return
        self.preview.clear()
        self._preview_mtime = None
        self.progress.setValue(0)
        self.progress.setFormat("sending\u2026")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.set_status("%s: sent" % self.plan.request.method)
        self.job = QtJob(self.socket_path(), request=self.plan.request, parent=self)
        self.job.notified.connect(self._on_event)
        self.job.finished.connect(self._on_finished)
        self.job.start()

    @guarded
    def cancel(self):
        if self.job is not None and not self.job.done:
            self.set_status("cancelling\u2026")
            self.job.cancel()

    @guarded
    def _on_event(self, kind, value):
        if kind in ("queued", "progress"):
            if value.fraction is not None:
                self.progress.setValue(int(value.fraction * 1000))
            self.progress.setFormat(value.text)
            self.set_status("%s: %s" % (self.plan.request.method, value.text))
            if kind == "progress":
                self._refresh_preview()
        elif kind == "started":
            self.progress.setFormat("started")
            self.set_status("%s: started" % value)
        elif kind == "fallback":
            self.set_status(value)

    def _refresh_preview(self):
        path = self.plan.request.preview_path if self.plan is not None else None
        if not path:
            return
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return
        if mtime == self._preview_mtime:
            return
        self._preview_mtime = mtime
        pixmap = QtGui.QPixmap(path)
        if not pixmap.isNull():
            self.preview.setPixmap(pixmap.scaled(160, 160, QtCore.Qt.KeepAspectRatio, QtCore.Qt.SmoothTransformation))

    def _on_finished(self, result, error):
        job, plan = self.job, self.plan
        try:
            if error is None:
                self._refresh_preview()
                try:
                    node = plan.finish(result)
                except core.DiffusiondError as failure:
                    error = failure
                except Exception as failure:  # a bug of ours, shown rather than raised into Krita
                    traceback.print_exc()
                    error = core.DiffusiondError(None, "diffusiond plug-in error while adding the layer: %s" % failure)
                else:
                    self.progress.setValue(1000)
                    self.progress.setFormat("done")
                    self.set_status("done: new layer \u201c%s\u201d" % node.name())
            if error is not None:
                self.progress.setValue(0)
                self.progress.setFormat("cancelled" if error.cancelled else "failed")
                self.set_status(error.message)
        finally:
            job.close_workspace()
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)


def register():
    Krita.instance().addDockWidgetFactory(
        DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, DiffusiondDocker))
