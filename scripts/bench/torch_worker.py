#!/usr/bin/env python3
"""PyTorch side of `diffusiond-bench`: a long-lived worker driven over stdin/stdout, one JSON object per line.

`diffusiond-bench` starts this script next to itself and alternates its own runs with the worker's, so both sides see
the same machine state (this 2-core machine drifts 20-40% over minutes; only ratios from one run mean anything).
Everything is float32 on the CPU with torch.set_num_threads(threads) and torch.inference_mode(); float16 files (SDXL,
as real checkpoints ship) are upcast on load. SDXL folders (a text_encoder_2/) load both encoders; the bench then
starts this worker only after its own side is done and freed (`--sequential`): 24 GB cannot hold two float32 SDXLs.

Requests (stdin) and answers (stdout; logs and warnings go to stderr):
  {"op": "load", "model": DIR, "threads": N}        -> {"ok": true, "seconds": s, "rss": bytes, "param_bytes": b}
  {"op": "run", "kind": K, ...params}                -> {"ok": true, "seconds": s}      one timed call
  {"op": "peak", "kind": K, ...params}               -> {"ok": true, "seconds": s, "rss_before": b, "hwm": b}
  {"op": "flops", "kind": K, ...params}              -> {"ok": true, "flops": f}  torch's FlopCounterMode, meta device
  {"op": "memory"}                                   -> {"ok": true, "rss": b, "hwm": b}
  {"op": "sgemm", "n": 2048, "repeats": 5}           -> {"ok": true, "seconds": median s}
  {"op": "bf16_error", "batch": B, "height": H, "width": W}
      -> {"ok": true, "fp32": [...], "relative_l2": {"autocast": e, "bf16_weights": e}, "seconds": {...}}
      one SD 1.x/2.x UNet call each (timestep 500, after an untimed warm-up call) on the bench's own inputs (`bench_tensor`, the same values
      diffusiond-bench's BenchInputs makes), in fp32, under CPU autocast to bf16 and with a bf16 copy of the UNet:
      PyTorch's bf16 errors against its fp32, and its fp32 prediction for ours to be measured against
  {"op": "quit"}
Kinds: "unet" (batch, height, width: image pixels; SDXL adds text_embeds and time_ids), "unet_controlnet" (the same
with ControlNetModel.from_unet's residuals), "t2i_adapter" (height, width: a full T2IAdapter with the UNet's widths on
one picture), "unet_t2i_adapter" (batch, height, width: the UNet with that adapter's features), "vae_decode" (batch, height,
width), "text" (batch; SDXL: both encoders as StableDiffusionXLPipeline.encode_prompt runs them), "txt2img" (height,
width, steps, cfg, sampler "euler"; StableDiffusionXLPipeline for SDXL). A failure answers {"ok": false, "error": "..."}.
Inputs are seeded random tensors of the right shapes: compute does not depend on values.
"""
import json
import os
import statistics
import sys
import time
import traceback

import torch


def proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux clear_refs value 5), so the next peak is one call's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


MASK64 = (1 << 64) - 1


def bench_tensor(shape, seed: int) -> torch.Tensor:
    """diffusiond-bench's BenchInputs.tensor, value for value: xorshift64*, each value the float32 sum of two
    uniforms in [-1, 1)."""
    import numpy as np
    state = ((seed * 0x9E3779B97F4A7C15) & MASK64) | 1
    count = 1
    for n in shape:
        count *= n
    values = np.empty(count, dtype=np.float32)
    scale = np.float32(1 << 24)
    for i in range(count):
        total = np.float32(0)
        for _ in range(2):
            state ^= state >> 12
            state ^= (state << 25) & MASK64
            state ^= state >> 27
            total = np.float32(total + (np.float32(((state * 0x2545F4914F6CDD1D) & MASK64) >> 40) / scale
                                        * np.float32(2) - np.float32(1)))
        values[i] = total
    return torch.from_numpy(values).reshape(shape)


def relative_l2(ours: torch.Tensor, reference: torch.Tensor) -> float:
    ours, reference = ours.double(), reference.double()
    return float((ours - reference).norm() / reference.norm())


class Worker:
    def __init__(self):
        self.folder = None
        self.unet = self.vae = self.text = self.text2 = self.tokenizer = None
        self.inputs = {}
        self.pipe = None

    def load(self, model: str, threads: int):
        from diffusers import AutoencoderKL, UNet2DConditionModel
        from transformers import CLIPTextModel, CLIPTextModelWithProjection
        torch.set_num_threads(threads)
        start = time.perf_counter()
        self.folder = model
        self.unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet", torch_dtype=torch.float32).eval()
        self.vae = AutoencoderKL.from_pretrained(model, subfolder="vae", torch_dtype=torch.float32).eval()
        self.text = CLIPTextModel.from_pretrained(model, subfolder="text_encoder", torch_dtype=torch.float32).eval()
        if os.path.isdir(os.path.join(model, "text_encoder_2")):
            self.text2 = CLIPTextModelWithProjection.from_pretrained(model, subfolder="text_encoder_2",
                                                                     torch_dtype=torch.float32).eval()
        seconds = time.perf_counter() - start
        params = sum(p.numel() for m in self.networks() for p in m.parameters()) * 4
        return {"seconds": seconds, "rss": proc_status("VmRSS"), "param_bytes": params,
                "threads": torch.get_num_threads(), "torch": torch.__version__}

    def networks(self):
        return [m for m in (self.unet, self.vae, self.text, self.text2) if m is not None]

    @staticmethod
    def added_conditioning(cfg, batch: int, height: int, width: int, g=None):
        """SDXL's added_cond_kwargs: pooled text_embeds (width from the config) and the base's 6 time ids."""
        if cfg.addition_embed_type != "text_time":
            return None
        ids = 6
        width_embeds = cfg.projection_class_embeddings_input_dim - ids * cfg.addition_time_embed_dim
        embeds = torch.randn(batch, width_embeds, generator=g) if g is not None else torch.empty(batch, width_embeds)
        time_ids = torch.tensor([[height, width, 0, 0, height, width]] * batch, dtype=torch.float32)
        return {"text_embeds": embeds, "time_ids": time_ids}

    @staticmethod
    def encode_text(text, text2, ids):
        """What the pipelines' encode_prompt runs: SD's last_hidden_state; SDXL's every layer of both encoders
        (output_hidden_states, then hidden_states[-2]) and bigG's projected pooled output."""
        if text2 is None:
            return text(ids).last_hidden_state
        first = text(ids, output_hidden_states=True).hidden_states[-2]
        second = text2(ids, output_hidden_states=True)
        return torch.cat([first, second.hidden_states[-2]], dim=-1), second.text_embeds

    def call(self, req):
        """A zero-argument closure running one call of the requested workload (inputs made once and cached)."""
        kind = req["kind"]
        key = json.dumps(req, sort_keys=True)
        if kind == "unet":
            if key not in self.inputs:
                g = torch.Generator().manual_seed(1)
                b, h, w = req["batch"], req["height"] // 8, req["width"] // 8
                cfg = self.unet.config
                self.inputs[key] = (torch.randn(b, cfg.in_channels, h, w, generator=g),
                                    torch.full((b,), 500.0),
                                    torch.randn(b, 77, cfg.cross_attention_dim, generator=g),
                                    self.added_conditioning(cfg, b, req["height"], req["width"], g))
            x, t, c, added = self.inputs[key]
            return lambda: self.unet(x, t, encoder_hidden_states=c, added_cond_kwargs=added).sample
        if kind == "unet_controlnet":
            # ControlNetModel.from_unet on the same UNet (default 16/32/96/256 hint block), then the UNet with its
            # residuals: one step of StableDiffusionControlNetPipeline without guess mode.
            if key not in self.inputs:
                from diffusers import ControlNetModel
                g = torch.Generator().manual_seed(1)
                b, h, w = req["batch"], req["height"], req["width"]
                cfg = self.unet.config
                controlnet = ControlNetModel.from_unet(self.unet).eval()
                self.inputs[key] = (controlnet, torch.randn(b, cfg.in_channels, h // 8, w // 8, generator=g),
                                    torch.full((b,), 500.0), torch.randn(b, 77, cfg.cross_attention_dim, generator=g),
                                    self.added_conditioning(cfg, b, h, w, g), torch.rand(b, 3, h, w, generator=g))
            controlnet, x, t, c, added, image = self.inputs[key]

            def step():
                down, mid = controlnet(x, t, encoder_hidden_states=c, controlnet_cond=image, added_cond_kwargs=added,
                                       return_dict=False)
                return self.unet(x, t, encoder_hidden_states=c, added_cond_kwargs=added,
                                 down_block_additional_residuals=down, mid_block_additional_residual=mid).sample
            return step
        if kind in ("t2i_adapter", "unet_t2i_adapter"):
            # T2IAdapter(adapter_type="full_adapter") with the UNet's block widths, 2 res blocks, unshuffle 8 (SD 1.5's
            # full adapters); "t2i_adapter" times its features of one picture (once per job), "unet_t2i_adapter" one
            # UNet step with them (StableDiffusionAdapterPipeline's down_intrablock_additional_residuals).
            if key not in self.inputs:
                from diffusers import T2IAdapter
                g = torch.Generator().manual_seed(1)
                h, w = req["height"], req["width"]
                cfg = self.unet.config
                adapter = T2IAdapter(in_channels=3, channels=list(cfg.block_out_channels), num_res_blocks=2,
                                     downscale_factor=8, adapter_type="full_adapter").eval()
                picture = torch.rand(1, 3, h, w, generator=g)
                if kind == "t2i_adapter":
                    self.inputs[key] = (adapter, picture)
                else:
                    b = req["batch"]
                    with torch.inference_mode():
                        features = [f.repeat(b, 1, 1, 1) for f in adapter(picture)]
                    self.inputs[key] = (features, torch.randn(b, cfg.in_channels, h // 8, w // 8, generator=g),
                                        torch.full((b,), 500.0), torch.randn(b, 77, cfg.cross_attention_dim, generator=g))
            if kind == "t2i_adapter":
                adapter, picture = self.inputs[key]
                return lambda: adapter(picture)
            features, x, t, c = self.inputs[key]
            # The UNet pops from the list it is given: a fresh one per call.
            return lambda: self.unet(x, t, encoder_hidden_states=c,
                                     down_intrablock_additional_residuals=list(features)).sample
        if kind == "vae_decode":
            if key not in self.inputs:
                g = torch.Generator().manual_seed(2)
                self.inputs[key] = torch.randn(req["batch"], self.vae.config.latent_channels,
                                               req["height"] // 8, req["width"] // 8, generator=g)
            z = self.inputs[key]
            return lambda: self.vae.decode(z).sample
        if kind == "text":
            if key not in self.inputs:
                g = torch.Generator().manual_seed(3)
                self.inputs[key] = torch.randint(0, self.text.config.vocab_size - 2, (req["batch"], 77), generator=g)
            ids = self.inputs[key]
            return lambda: self.encode_text(self.text, self.text2, ids)
        if kind == "txt2img":
            pipe = self.pipeline(req.get("sampler", "euler"))
            def run():
                g = torch.Generator().manual_seed(req.get("seed", 0))
                return pipe(req.get("prompt", "a photograph of an astronaut riding a horse"),
                            negative_prompt=req.get("negative_prompt", ""),
                            height=req["height"], width=req["width"], num_inference_steps=req["steps"],
                            guidance_scale=req.get("cfg", 7.5), generator=g, output_type="np").images
            return run
        raise ValueError(f"unknown kind {kind!r}")

    def pipeline(self, sampler: str):
        from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline
        from transformers import CLIPTokenizer
        if sampler != "euler":
            raise ValueError(f"sampler {sampler!r} not wired in the worker (euler only)")
        if self.pipe is None and self.text2 is not None:
            self.pipe = StableDiffusionXLPipeline(
                vae=self.vae, text_encoder=self.text, text_encoder_2=self.text2,
                tokenizer=CLIPTokenizer.from_pretrained(self.folder, subfolder="tokenizer"),
                tokenizer_2=CLIPTokenizer.from_pretrained(self.folder, subfolder="tokenizer_2"), unet=self.unet,
                scheduler=EulerDiscreteScheduler.from_pretrained(self.folder, subfolder="scheduler"),
                force_zeros_for_empty_prompt=True)
            self.pipe.set_progress_bar_config(disable=True)
        if self.pipe is None:
            tokenizer = CLIPTokenizer.from_pretrained(self.folder, subfolder="tokenizer")
            scheduler = EulerDiscreteScheduler.from_pretrained(self.folder, subfolder="scheduler")
            self.pipe = StableDiffusionPipeline(vae=self.vae, text_encoder=self.text, tokenizer=tokenizer,
                                                unet=self.unet, scheduler=scheduler, safety_checker=None,
                                                feature_extractor=None, requires_safety_checker=False)
            self.pipe.set_progress_bar_config(disable=True)
        return self.pipe

    def flops(self, req) -> int:
        """FLOPs torch itself counts (convs, matmuls, attention) for one call, on meta tensors (no compute)."""
        from diffusers import AutoencoderKL, UNet2DConditionModel
        from torch.utils.flop_counter import FlopCounterMode
        from transformers import CLIPTextModel, CLIPTextModelWithProjection
        kind = req["kind"]
        with torch.device("meta"):
            if kind == "unet":
                m = UNet2DConditionModel.from_config(self.unet.config)
                cfg = m.config
                args = (torch.empty(req["batch"], cfg.in_channels, req["height"] // 8, req["width"] // 8),
                        torch.empty(req["batch"]), torch.empty(req["batch"], 77, cfg.cross_attention_dim),
                        self.added_conditioning(cfg, req["batch"], req["height"], req["width"]))
                fn = lambda: m(args[0], args[1], encoder_hidden_states=args[2], added_cond_kwargs=args[3])
            elif kind == "vae_decode":
                m = AutoencoderKL.from_config(self.vae.config)
                z = torch.empty(req["batch"], m.config.latent_channels, req["height"] // 8, req["width"] // 8)
                fn = lambda: m.decode(z)
            elif kind == "text":
                m = CLIPTextModel(self.text.config)
                m2 = CLIPTextModelWithProjection(self.text2.config) if self.text2 is not None else None
                ids = torch.zeros(req["batch"], 77, dtype=torch.long)
                fn = lambda: self.encode_text(m, m2, ids)
            else:
                raise ValueError(f"no FLOP count for {kind!r}")
            counter = FlopCounterMode(display=False)
            with torch.inference_mode(), counter:
                fn()
        return counter.get_total_flops()

    def bf16_error(self, req):
        from diffusers import UNet2DConditionModel
        cfg = self.unet.config
        if cfg.addition_embed_type is not None:
            raise ValueError("bf16_error takes an SD 1.x/2.x UNet (no added conditioning)")
        b, h, w = req["batch"], req["height"] // 8, req["width"] // 8
        cross = cfg.cross_attention_dim if isinstance(cfg.cross_attention_dim, int) else cfg.cross_attention_dim[0]
        x = bench_tensor([b, cfg.in_channels, h, w], 1)
        c = bench_tensor([b, 77, cross], 2)
        t = torch.full((b,), 500.0)
        # Loaded straight as bf16 (a deepcopy would hold a second float32 UNet first).
        cast = UNet2DConditionModel.from_pretrained(self.folder, subfolder="unet", torch_dtype=torch.bfloat16).eval()
        xb, cb = x.bfloat16(), c.bfloat16()

        def autocast_call():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return self.unet(x, t, encoder_hidden_states=c).sample.float()
        calls = {"fp32": lambda: self.unet(x, t, encoder_hidden_states=c).sample, "autocast": autocast_call,
                 "bf16_weights": lambda: cast(xb, t, encoder_hidden_states=cb).sample.float()}
        seconds, outputs = {}, {}
        with torch.inference_mode():
            for label, call in calls.items():
                call()  # warm-up (oneDNN primitives, first-touch), untimed as the bench's own warm-ups
                start = time.perf_counter()
                outputs[label] = call()
                seconds[label] = time.perf_counter() - start
        del cast
        fp32, autocast, pure = outputs["fp32"], outputs["autocast"], outputs["bf16_weights"]
        return {"fp32": fp32.flatten().tolist(), "seconds": seconds,
                "relative_l2": {"autocast": relative_l2(autocast, fp32), "bf16_weights": relative_l2(pure, fp32)}}

    def handle(self, req):
        op = req.get("op")
        if op == "load":
            return self.load(req["model"], req["threads"])
        if op == "run":
            fn = self.call(req)
            with torch.inference_mode():
                start = time.perf_counter()
                fn()
                return {"seconds": time.perf_counter() - start}
        if op == "peak":
            fn = self.call(req)
            with torch.inference_mode():
                before = proc_status("VmRSS")
                ok = reset_peak()
                start = time.perf_counter()
                fn()
                seconds = time.perf_counter() - start
            return {"seconds": seconds, "rss_before": before, "hwm": proc_status("VmHWM") if ok else -1}
        if op == "flops":
            return {"flops": self.flops(req)}
        if op == "bf16_error":
            return self.bf16_error(req)
        if op == "memory":
            return {"rss": proc_status("VmRSS"), "hwm": proc_status("VmHWM")}
        if op == "sgemm":
            n = req.get("n", 2048)
            g = torch.Generator().manual_seed(4)
            a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
            torch.mm(a, b)
            times = []
            for _ in range(req.get("repeats", 5)):
                start = time.perf_counter()
                torch.mm(a, b)
                times.append(time.perf_counter() - start)
            return {"seconds": statistics.median(times)}
        raise ValueError(f"unknown op {op!r}")


def main() -> None:
    # Protocol answers only on the real stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    worker = Worker()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req.get("op") == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                break
            answer = {"ok": True, **worker.handle(req)}
        except Exception as error:  # report to the driver instead of dying: it prints the reason
            traceback.print_exc(file=sys.stderr)
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
