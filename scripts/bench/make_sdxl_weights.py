#!/usr/bin/env python3
"""Full-size SDXL 1.0 base-architecture RANDOM weights for `diffusiond-bench` (never commit the output: ~7 GB).

    python3 scripts/bench/make_sdxl_weights.py work/bench-sdxl          # full size, 3.47 B parameters
    python3 scripts/bench/make_sdxl_weights.py --tiny /tmp/bench-sdxl-tiny   # same structure, narrow (seconds)

Writes a diffusers folder as the published stabilityai/stable-diffusion-xl-base-1.0 has it: model_index.json,
unet/ and vae/ (diffusion_pytorch_model.safetensors), text_encoder/ (CLIP-L, CLIPTextModel) and text_encoder_2/
(OpenCLIP bigG, CLIPTextModelWithProjection) as model.safetensors, all stored as float16 like real checkpoints,
tokenizer/ (pads with <|endoftext|>) and tokenizer_2/ (pads with "!"), both CLIP's standard vocabulary rebuilt from
the merges the project ships (make_weights.write_tokenizer), and scheduler/ (EulerDiscreteScheduler).

Memory: the networks are built on the meta device (shapes only) and each tensor is generated and written on its
own, straight into the safetensors file, so the script holds one tensor at a time (the largest: bigG's token
embedding, 49408 × 1280) instead of a 10 GB float32 UNet. Values: weights ~ N(0, 1/(3·fan_in)) (the spread of
PyTorch's default Linear/Conv init), norm scales 1 + 0.02·N(0,1), biases 0.02·N(0,1), from one seeded generator in
state-dict order, so re-running with the same seed writes the same files. No tensor is left at an initialiser's
zeros or ones (a zero weight could let a kernel take a shortcut that real weights never allow).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_weights  # noqa: E402  (the tokenizer writer; same folder)

REPO = os.path.dirname(os.path.dirname(HERE))

# stabilityai/stable-diffusion-xl-base-1.0 component configs (keys that differ from the classes' defaults).
UNET_CONFIG = dict(
    sample_size=128, block_out_channels=(320, 640, 1280), layers_per_block=2,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_embed_type_num_heads=64,
    addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816, norm_num_groups=32)
VAE_CONFIG = dict(
    block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4, norm_num_groups=32,
    sample_size=1024, scaling_factor=0.13025, force_upcast=True)
# SDXL's shipped text configs use bos 0 / eos 2 / pad 1 (eos_token_id 2 = transformers' legacy argmax pooling).
CLIP_IDS = dict(vocab_size=49408, max_position_embeddings=77, bos_token_id=0, eos_token_id=2, pad_token_id=1,
                layer_norm_eps=1e-5)
TEXT_CONFIG = dict(CLIP_IDS, hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                   projection_dim=768, hidden_act="quick_gelu")
TEXT2_CONFIG = dict(CLIP_IDS, hidden_size=1280, intermediate_size=5120, num_attention_heads=20, num_hidden_layers=32,
                    projection_dim=1280, hidden_act="gelu")
SCHEDULER_CONFIG = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                        prediction_type="epsilon", interpolation_type="linear", steps_offset=1,
                        timestep_spacing="leading", use_karras_sigmas=False)


def tiny(unet: dict, vae: dict, text: dict, text2: dict):
    """The same structure (levels, blocks, transformer depths (1, 2, 10), both encoders, added conditioning),
    narrow enough for a debug build at 1024²: channels / 20 in the UNet, 8-channel VAE, 2-4-layer encoders."""
    unet = dict(unet, block_out_channels=(16, 32, 64), attention_head_dim=(1, 2, 4), norm_num_groups=8,
                cross_attention_dim=64 + 128, addition_time_embed_dim=32, projection_class_embeddings_input_dim=128 + 6 * 32)
    vae = dict(vae, block_out_channels=(8, 16, 16, 16), norm_num_groups=4)
    text = dict(text, hidden_size=64, intermediate_size=256, num_attention_heads=4, num_hidden_layers=2, projection_dim=64)
    text2 = dict(text2, hidden_size=128, intermediate_size=512, num_attention_heads=4, num_hidden_layers=4,
                 projection_dim=128)
    return unet, vae, text, text2


def initial_value(name: str, shape, generator: torch.Generator) -> torch.Tensor:
    values = torch.randn(shape, generator=generator, dtype=torch.float32)
    if len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return values * (1.0 / math.sqrt(3 * fan_in))
    if name.endswith("weight"):  # norm scales
        return 1 + 0.02 * values
    return 0.02 * values


def write_safetensors(path: str, model: torch.nn.Module, generator: torch.Generator) -> int:
    """Streams `model`'s state dict (shapes from the meta device) to a float16 safetensors file: the header first
    (offsets are known from the shapes), then each tensor as it is generated. Returns the parameter count."""
    entries, offset = {}, 0
    state = model.state_dict()
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            sys.exit(f"{name}: non-float persistent tensor {tensor.dtype}; not expected in these networks")
        size = tensor.numel() * 2
        entries[name] = {"dtype": "F16", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    header = json.dumps({"__metadata__": {"format": "pt"}, **entries}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    count = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for name, tensor in state.items():
            value = initial_value(name, tuple(tensor.shape), generator).to(torch.float16)
            f.write(value.numpy().tobytes())
            count += tensor.numel()
            del value
    return count


def save_component(out: str, folder: str, model: torch.nn.Module, file: str, generator: torch.Generator) -> int:
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    count = write_safetensors(os.path.join(out, folder, file), model, generator)
    if hasattr(model, "save_config"):  # diffusers
        model.save_config(os.path.join(out, folder))
    else:  # transformers: record the stored dtype as real checkpoints do
        model.config.dtype = "float16"
        model.config.architectures = [type(model).__name__]
        model.config.save_pretrained(os.path.join(out, folder))
    return count


def main() -> None:
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", default=os.path.join(REPO, "work/bench-sdxl"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="same structure, narrow channels (tests of the bench itself)")
    args = ap.parse_args()
    out = args.folder
    configs = (UNET_CONFIG, VAE_CONFIG, TEXT_CONFIG, TEXT2_CONFIG)
    unet_cfg, vae_cfg, text_cfg, text2_cfg = tiny(*configs) if args.tiny else configs
    generator = torch.Generator().manual_seed(args.seed)
    components = (
        ("unet", "diffusion_pytorch_model.safetensors", lambda: UNet2DConditionModel(**unet_cfg)),
        ("vae", "diffusion_pytorch_model.safetensors", lambda: AutoencoderKL(**vae_cfg)),
        ("text_encoder", "model.safetensors", lambda: CLIPTextModel(CLIPTextConfig(**text_cfg))),
        ("text_encoder_2", "model.safetensors", lambda: CLIPTextModelWithProjection(CLIPTextConfig(**text2_cfg))),
    )
    counts = {}
    for folder, file, build in components:
        with torch.device("meta"):  # shapes only: nothing is allocated
            model = build()
        counts[folder] = save_component(out, folder, model, file, generator)
        del model
        print(f"  {folder}: {counts[folder] / 1e6:.1f} M parameters", flush=True)
    EulerDiscreteScheduler(**SCHEDULER_CONFIG).save_pretrained(os.path.join(out, "scheduler"))
    make_weights.write_tokenizer(os.path.join(out, "tokenizer"))
    make_weights.write_tokenizer(os.path.join(out, "tokenizer_2"), pad_token="!")
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.42.1",
                   "force_zeros_for_empty_prompt": True, "feature_extractor": [None, None],
                   "image_encoder": [None, None], "scheduler": ["diffusers", "EulerDiscreteScheduler"],
                   "text_encoder": ["transformers", "CLIPTextModel"],
                   "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
                   "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}, f, indent=2)
    total = sum(counts.values())
    print(f"wrote {out}: {total / 1e9:.3f} B parameters, {2 * total / 1e9:.2f} GB float16 "
          f"({4 * total / 1e9:.2f} GB as float32)")


if __name__ == "__main__":
    main()
