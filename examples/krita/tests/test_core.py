"""Unit tests of the Krita plug-in's plain-Python protocol core (no Krita, no Qt).

The pure tests need nothing; the ones marked "daemon" talk to the real diffusiond that scripts/test_krita.sh
starts: DIFFUSIOND_SOCKET (models folder with the tiny SD1 fixture as DIFFUSIOND_TEST_MODEL) and
DIFFUSIOND_RESTRICTED_SOCKET (a daemon run with --allow-dir elsewhere, so it refuses our paths with -32005).

    python3 examples/krita/tests/test_core.py -v
"""
import base64
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from diffusiond_krita import core  # noqa: E402

SOCKET = os.environ.get("DIFFUSIOND_SOCKET")
RESTRICTED = os.environ.get("DIFFUSIOND_RESTRICTED_SOCKET")
MODEL = os.environ.get("DIFFUSIOND_TEST_MODEL", "tiny")
needs_daemon = unittest.skipUnless(SOCKET, "DIFFUSIOND_SOCKET not set (scripts/test_krita.sh starts a daemon)")
needs_restricted = unittest.skipUnless(RESTRICTED, "DIFFUSIOND_RESTRICTED_SOCKET not set")


def noise(n, seed=1):
    """n pseudo-random bytes (incompressible, so a PNG of them is big)."""
    out, x = bytearray(n), seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 255
    return bytes(out)


class LineBufferTests(unittest.TestCase):
    def test_messages_split_across_reads_and_blank_lines(self):
        lines = core.LineBuffer()
        self.assertEqual(lines.feed(b'{"a":1}\n{"b"'), [{"a": 1}])
        self.assertEqual(lines.feed(b':2}\r\n\n  \n{"c":3}'), [{"b": 2}])
        self.assertEqual(lines.pending, 7)
        self.assertEqual(lines.feed(b"\n"), [{"c": 3}])

    def test_a_line_that_is_not_json_is_an_error(self):
        with self.assertRaises(core.DiffusiondError) as caught:
            core.LineBuffer().feed(b"nope\n")
        self.assertIn("not JSON", caught.exception.message)


class ProgressTests(unittest.TestCase):
    def test_sampling_step_and_eta(self):
        p = core.describe_progress({"id": 1, "stage": "sampling", "step": 3, "steps": 20, "elapsed_ms": 10,
                                    "remaining_ms": 4500})
        self.assertEqual(p.text, "sampling 3/20 \u00b7 ETA 4 s")  # round half to even: 4.5 s -> 4 s
        self.assertAlmostEqual(p.fraction, 0.15)
        self.assertEqual((p.stage, p.remaining_ms), ("sampling", 4500))

    def test_tiles_and_unknown_stage(self):
        p = core.describe_progress({"id": 1, "stage": "tile_refine", "tile": 2, "tiles": 8, "elapsed_ms": 1,
                                    "remaining_ms": 125000})
        self.assertEqual(p.text, "tile refine tile 2/8 \u00b7 ETA 2 min 05 s")
        self.assertEqual(p.fraction, 0.25)

    def test_stage_without_counts(self):
        p = core.describe_progress({"id": 1, "stage": "load_model", "elapsed_ms": 1})
        self.assertEqual((p.text, p.fraction), ("loading the model", None))

    def test_queue_position(self):
        self.assertEqual(core.describe_queued({"id": 1, "position": 1}).text, "queued: runs next")
        self.assertEqual(core.describe_queued({"id": 1, "position": 3}).text, "queued: position 3")

    def test_durations(self):
        self.assertEqual(core.format_duration(0), "0 s")
        self.assertEqual(core.format_duration(59400), "59 s")
        self.assertEqual(core.format_duration(3 * 3600 * 1000 + 60000), "3 h 01 min")


class JobTests(unittest.TestCase):
    def test_a_job_conversation(self):
        job = core.Job("generate", {"model": "m", "prompt": "p"}, job_id="j1")
        self.assertEqual(core.LineBuffer().feed(job.request_bytes()),
                         [{"jsonrpc": "2.0", "id": "j1", "method": "generate", "params": {"model": "m", "prompt": "p"}}])
        events = []
        for message in [
            {"jsonrpc": "2.0", "method": "queued", "params": {"id": "j1", "position": 2}},
            {"jsonrpc": "2.0", "method": "queued", "params": {"id": "other", "position": 1}},
            {"jsonrpc": "2.0", "method": "started", "params": {"id": "j1", "method": "generate"}},
            {"jsonrpc": "2.0", "method": "future_notification", "params": {"id": "j1"}},
            {"jsonrpc": "2.0", "method": "progress", "params": {"id": "j1", "stage": "sampling", "step": 1, "steps": 2, "elapsed_ms": 1}},
            {"jsonrpc": "2.0", "id": "someone-else", "result": {}},
            {"jsonrpc": "2.0", "id": "j1", "result": {"images": [{"base64": "", "seed": 7}]}},
            {"jsonrpc": "2.0", "method": "progress", "params": {"id": "j1", "stage": "late", "elapsed_ms": 1}},
        ]:
            events += job.handle(message)
        self.assertEqual([kind for kind, _ in events], ["queued", "started", "progress", "result"])
        self.assertEqual(events[0][1].position, 2)
        self.assertTrue(job.done)
        self.assertEqual(core.result_seed(job.result), 7)

    def test_an_error_carries_the_daemons_code_message_and_data(self):
        job = core.Job("generate", {}, job_id=5)
        events = job.handle({"jsonrpc": "2.0", "id": 5, "error": {
            "code": -32602, "message": "invalid params: steps must be at most 1000",
            "data": {"field": "steps", "reason": "must be at most 1000"}}})
        kind, error = events[0]
        self.assertEqual(kind, "error")
        self.assertEqual((error.code, str(error), error.data["field"]),
                         (-32602, "invalid params: steps must be at most 1000", "steps"))
        self.assertFalse(error.cancelled)

    def test_cancel_goes_on_the_same_connection_and_its_own_answer_is_not_the_jobs(self):
        job = core.Job("generate", {}, job_id="j")
        cancel = core.LineBuffer().feed(job.cancel_bytes())[0]
        self.assertEqual((cancel["method"], cancel["params"]), ("cancel", {"id": "j"}))
        self.assertEqual(job.handle({"jsonrpc": "2.0", "id": cancel["id"], "result": {"cancelled": True}}), [])
        kind, error = job.handle({"jsonrpc": "2.0", "id": "j", "error": {"code": -32800, "message": "request cancelled"}})[0]
        self.assertTrue(error.cancelled)

    def test_an_id_less_error_ends_the_job(self):
        job = core.Job("generate", {})
        kind, error = job.handle({"jsonrpc": "2.0", "id": None, "error": {"code": -32009, "message": "line too long"}})[0]
        self.assertEqual((kind, error.code), ("error", -32009))

    def test_job_ids_are_unique_strings(self):
        self.assertNotEqual(core.Job("a", {}).id, core.Job("a", {}).id)


class SocketPathTests(unittest.TestCase):
    def test_rule(self):
        self.assertEqual(core.default_socket_path({"DIFFUSIOND_SOCKET": "/x/s", "XDG_RUNTIME_DIR": "/run/u"}), "/x/s")
        self.assertEqual(core.default_socket_path({"XDG_RUNTIME_DIR": "/run/u"}), "/run/u/diffusiond/diffusiond.sock")
        self.assertEqual(core.default_socket_path({"XDG_RUNTIME_DIR": "relative"}),
                         "/tmp/diffusiond-%d/diffusiond.sock" % os.getuid())
        self.assertEqual(core.default_socket_path({}), "/tmp/diffusiond-%d/diffusiond.sock" % os.getuid())


class TransportTests(unittest.TestCase):
    def setUp(self):
        self.runtime = tempfile.mkdtemp()
        self.environ = {"XDG_RUNTIME_DIR": self.runtime}

    def tearDown(self):
        os.rmdir(self.runtime)

    def test_small_images_inline_big_ones_by_path_in_a_private_folder_removed_after(self):
        small, big = b"s" * 100, b"b" * (core.INLINE_LIMIT + 1)
        req = core.Request("inpaint", {"fill": "edge"}, inputs={"image": big, "mask": small}, output_pixels=512 * 512)
        with core.Workspace(self.environ) as ws:
            self.assertEqual(os.path.dirname(ws.path), self.runtime)
            self.assertEqual(os.stat(ws.path).st_mode & 0o777, 0o700)
            params = req.build(ws)
            self.assertEqual(params["mask"], {"base64": base64.b64encode(small).decode()})
            with open(params["image"]["path"], "rb") as f:
                self.assertEqual(f.read(), big)
            self.assertEqual(os.stat(params["image"]["path"]).st_mode & 0o777, 0o600)
            self.assertTrue(params["output"]["path"].startswith(ws.path + "/"))
            self.assertNotIn("preview", params)
            inline = req.build(ws, inline=True)
            self.assertEqual(inline["image"], {"base64": base64.b64encode(big).decode()})
            self.assertEqual(inline["output"], {"format": "png"})
            folder = ws.path
        self.assertFalse(os.path.exists(folder))
        self.assertEqual(os.listdir(self.runtime), [])

    def test_images_inside_nested_members_travel_like_top_level_ones(self):
        big = b"c" * (core.INLINE_LIMIT + 1)
        params = {"model": "m", "control": [{"model": "canny", "weight": 0.5}]}
        req = core.Request("generate", params, inputs={("control", 0, "image"): big}, output_pixels=512 * 512)
        with core.Workspace(self.environ) as ws:
            built = req.build(ws)
            path = built["control"][0]["image"]["path"]
            self.assertTrue(path.startswith(ws.path + "/control-0-image-"), path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), big)
            self.assertEqual(built["control"][0]["weight"], 0.5)
            self.assertNotIn("image", params["control"][0], "the plan's own params are not changed")
            inline = req.build(ws, inline=True)
            self.assertEqual(inline["control"][0]["image"], {"base64": base64.b64encode(big).decode()})

    def test_small_outputs_come_back_inline_and_previews_only_for_models(self):
        with core.Workspace(self.environ) as ws:
            self.assertEqual(core.Request("generate", {"model": "m"}, output_pixels=32 * 32).build(ws)["output"],
                             {"format": "png"})
            with_model = core.Request("generate", {"model": "m"}, output_pixels=512 * 512, preview_every=2).build(ws)
            self.assertEqual(with_model["preview"], {"every": 2, "path": ws.file("preview.png")})
            fill = core.Request("inpaint", {}, output_pixels=512 * 512, preview_every=2).build(ws)
            self.assertNotIn("preview", fill)
            own = core.Request("generate", {"model": "m", "output": {"path": "/x.png"}}, output_pixels=1).build(ws)
            self.assertEqual(own["output"], {"path": "/x.png"})

    def test_result_images_by_path_and_inline(self):
        with core.Workspace(self.environ) as ws:
            path = ws.write("r.png", b"file")
            self.assertEqual(core.result_images({"image": {"path": path}})[0][0], b"file")
            result = {"images": [{"base64": base64.b64encode(b"one").decode(), "seed": 3, "parameters": "p\nSteps: 2"}]}
            self.assertEqual(core.result_images(result)[0][0], b"one")
            self.assertEqual((core.result_seed(result), core.result_parameters(result)), (3, "p\nSteps: 2"))
        with self.assertRaises(core.DiffusiondError):
            core.result_images({"model": "x"})


class PNGTests(unittest.TestCase):
    def test_round_trip_and_channel_order(self):
        bgra = bytes([1, 2, 3, 4, 10, 20, 30, 40])
        rgba = core.bgra_to_rgba(bgra)
        self.assertEqual(rgba, bytes([3, 2, 1, 4, 30, 20, 10, 40]))
        self.assertEqual(core.rgba_to_bgra(rgba), bgra)
        self.assertEqual(core.decode_png(core.encode_png(2, 1, rgba, 4)), (2, 1, 4, 8, rgba))
        grey = bytes(range(0, 240, 10))
        self.assertEqual(core.decode_png(core.encode_png(6, 4, grey, 1))[4], grey)
        with self.assertRaises(ValueError):
            core.encode_png(2, 2, b"123", 1)

    def test_layer_names(self):
        self.assertEqual(core.layer_name("generate", "a  red\nfox", 42), "generate: a red fox [seed 42]")
        self.assertEqual(core.layer_name("inpaint", "", None, "fill edge"), "inpaint (fill edge)")
        self.assertTrue(core.layer_name("generate", "x" * 100, 1).startswith("generate: " + "x" * 47 + "\u2026"))


class ChoicesTests(unittest.TestCase):
    def test_models_by_kind_and_broken_files_left_out(self):
        caps = {"daemon_version": "1.2", "samplers": ["euler", {"name": "ddim"}], "schedulers": ["karras"],
                "operations": [{"method": "upscale", "params_schema": {"properties": {"model": {
                    "description": "upscaler ..., or lanczos3 / bicubic for no network"}}}}, {"method": "generate"}]}
        listed = {"models": [
            {"name": "sd15", "kind": "stable-diffusion"},
            {"name": "sd15-inpainting", "kind": "stable-diffusion", "inpainting": True},
            {"name": "broken", "kind": "stable-diffusion", "error": "cannot read"},
            {"name": "x4", "kind": "upscaler"},
            {"name": "canny", "kind": "controlnet"}]}
        c = core.choices(caps, listed)
        self.assertEqual(c["models"], ["sd15", "sd15-inpainting"])
        self.assertEqual(c["inpainting_models"], ["sd15-inpainting"])
        self.assertEqual(c["upscalers"], ["x4", "lanczos3", "bicubic"])
        self.assertEqual((c["samplers"], c["schedulers"], c["operations"]), (["euler", "ddim"], ["karras"], ["upscale", "generate"]))
        self.assertEqual(c["by_kind"]["controlnet"], ["canny"])
        self.assertEqual(c["version"], "1.2")

    def test_loras_and_controlnets_offered_for_the_models_family(self):
        listed = {"models": [
            {"name": "sd15", "kind": "stable-diffusion", "family": "sd1"},
            {"name": "xl", "kind": "stable-diffusion", "family": "sdxl"},
            {"name": "detail", "kind": "lora", "family": "sd1"},
            {"name": "xl-detail", "kind": "lora", "family": "sdxl"},
            {"name": "odd", "kind": "lora", "family": "unknown"},
            {"name": "bad", "kind": "lora", "family": "sd1", "error": "cannot read"},
            {"name": "canny", "kind": "controlnet", "family": "sd1"},
            {"name": "xl-canny", "kind": "controlnet", "family": "sdxl"}]}
        c = core.choices({}, listed)
        self.assertEqual(c["loras"], ["detail", "xl-detail", "odd"])
        self.assertEqual(c["controlnets"], ["canny", "xl-canny"])
        self.assertEqual(core.fitting(c, "lora", "sd15"), ["detail", "odd"])
        self.assertEqual(core.fitting(c, "lora", "xl"), ["xl-detail", "odd"])
        self.assertEqual(core.fitting(c, "controlnet", "xl"), ["xl-canny"])
        self.assertEqual(core.fitting(c, "lora", "typed-by-hand"), ["detail", "xl-detail", "odd"])


class DaemonNotRunningTests(unittest.TestCase):
    def test_a_missing_socket_gives_the_not_running_message(self):
        path = os.path.join(tempfile.gettempdir(), "diffusiond-krita-no-daemon-%d.sock" % os.getpid())
        with self.assertRaises(core.DaemonNotRunning) as caught:
            core.BlockingClient(path).call("ping")
        self.assertIn("diffusiond is not running", str(caught.exception))
        self.assertIn(path, str(caught.exception))
        self.assertIsNone(caught.exception.code)


@needs_daemon
class DaemonTests(unittest.TestCase):
    def client(self):
        return core.BlockingClient(SOCKET, timeout=60)

    def test_choices_come_from_capabilities_and_models_list(self):
        client = self.client()
        choices = core.choices(client.call("capabilities"), client.call("models.list"))
        self.assertIn(MODEL, choices["models"])
        self.assertIn("euler", choices["samplers"])
        self.assertIn("karras", choices["schedulers"])
        self.assertIn("lanczos3", choices["upscalers"])
        for op in ("generate", "img2img", "inpaint", "outpaint", "upscale"):
            self.assertIn(op, choices["operations"])

    def test_generate_reports_progress_and_returns_the_image(self):
        events = []
        result = self.client().run(core.Request("generate", {"model": MODEL, "prompt": "a red fox", "steps": 2,
                                                             "seed": 42, "width": 32, "height": 24},
                                                output_pixels=32 * 24),
                                   on_event=lambda kind, value: events.append(kind))
        self.assertEqual(events[:2], ["queued", "started"])
        self.assertIn("progress", events)
        (data, image), = core.result_images(result)
        self.assertEqual(core.decode_png(data)[:2], (32, 24))
        self.assertEqual(image["seed"], 42)
        self.assertIn("Seed: 42", image["parameters"])

    def test_an_unknown_model_is_the_daemons_own_message(self):
        with self.assertRaises(core.DiffusiondError) as caught:
            self.client().run(core.Request("generate", {"model": "no-such-model", "prompt": "x", "width": 8, "height": 8}))
        self.assertEqual(caught.exception.code, -32602)
        self.assertIn('model "no-such-model" not found', caught.exception.message)
        self.assertEqual(caught.exception.data["field"], "model")

    def test_cancel_mid_job_ends_it_with_32800(self):
        client = self.client()
        seen = []

        def on_event(kind, value):
            seen.append(kind)
            if kind == "progress" and value.stage == "sampling" and "cancel" not in seen:
                seen.append("cancel")
                threading.Thread(target=client.cancel).start()
        with self.assertRaises(core.DiffusiondError) as caught:
            client.run(core.Request("generate", {"model": MODEL, "prompt": "slow", "steps": 1000, "width": 64,
                                                 "height": 64}), on_event=on_event)
        self.assertEqual(caught.exception.code, core.CANCELLED)
        self.assertIn("cancel", seen)
        status = self.client().call("status")
        self.assertEqual((status["running"], status["queue_length"]), (None, 0))

    def test_files_go_through_a_private_folder_that_is_removed(self):
        runtime = tempfile.mkdtemp()
        try:
            big = core.encode_png(160, 160, noise(160 * 160 * 4), 4)
            req = core.Request("resize", {"width": 40}, inputs={"image": big}, output_pixels=160 * 160)
            with core.Workspace({"XDG_RUNTIME_DIR": runtime}) as ws:
                result = self.client().run(req, workspace=ws)
                self.assertTrue(req.build(ws)["image"]["path"].startswith(ws.path))
                self.assertTrue(result["image"]["path"].startswith(ws.path))
            self.assertEqual(os.listdir(runtime), [])
        finally:
            os.rmdir(runtime)


@needs_restricted
class PathNotAllowedTests(unittest.TestCase):
    def test_a_daemon_with_allow_dir_gets_the_images_inline(self):
        big = core.encode_png(160, 160, noise(160 * 160 * 4), 4)
        self.assertGreater(len(big), core.INLINE_LIMIT)
        events = []
        req = core.Request("resize", {"width": 40}, inputs={"image": big}, output_pixels=160 * 160)
        result = core.BlockingClient(RESTRICTED, timeout=60).run(req, on_event=lambda k, v: events.append((k, v)))
        self.assertIn("fallback", [k for k, _ in events])
        self.assertTrue(req.inline)
        self.assertEqual(core.decode_png(core.result_images(result)[0][0])[:2], (40, 40))

    def test_the_daemons_refusal_is_what_triggers_it(self):
        big = core.encode_png(160, 160, noise(160 * 160 * 4), 4)
        with core.Workspace() as ws:
            params = core.Request("resize", {"width": 40}, inputs={"image": big}).build(ws)
            with self.assertRaises(core.DiffusiondError) as caught:
                core.BlockingClient(RESTRICTED, timeout=60)._run(core.Job("resize", params), None)
        self.assertEqual(caught.exception.code, core.PATH_NOT_ALLOWED)


if __name__ == "__main__":
    unittest.main()
