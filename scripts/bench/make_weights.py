#!/usr/bin/env python3
"""Full-size SD 1.5-architecture RANDOM weights for `diffusiond-bench` (never commit the output: ~4.3 GB).

    python3 scripts/bench/make_weights.py work/bench-sd15

Writes a diffusers folder: model_index.json, unet/, vae/, text_encoder/ (float32 safetensors), tokenizer/ (CLIP's
standard BPE vocabulary, rebuilt from the merges the project ships in Sources/Models/Tokenizer/CLIPStandardMerges.swift,
so no download is needed) and scheduler/ (SD 1.5's scaled-linear PNDM config).

The networks are diffusers' UNet2DConditionModel / AutoencoderKL / transformers' CLIPTextModel with the configs of
runwayml/stable-diffusion-v1-5, so the compute per call is exactly that of the real model; only the values are
random (seeded: torch.manual_seed(seed)). Every parameter is perturbed by 0.02·N(0,1) so no tensor is left at an
initialiser's zeros or ones (a zero weight could let a kernel take a shortcut that real weights never allow).
Re-running with the same seed writes the same files.
"""
import argparse
import json
import os
import re
import sys

import torch
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MERGES_SWIFT = os.path.join(REPO, "Sources/Models/Tokenizer/CLIPStandardMerges.swift")

# runwayml/stable-diffusion-v1-5 component configs (only the keys that differ from the classes' defaults).
UNET_CONFIG = dict(sample_size=64, attention_head_dim=8, cross_attention_dim=768)
VAE_CONFIG = dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                  up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4,
                  sample_size=512, scaling_factor=0.18215)
TEXT_CONFIG = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                   projection_dim=768, max_position_embeddings=77, hidden_act="quick_gelu",
                   bos_token_id=49406, eos_token_id=49407, pad_token_id=1)


def bytes_to_unicode():
    """GPT-2/CLIP's reversible byte -> printable-character table, in CLIP's vocabulary order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_tokenizer(folder: str, pad_token: str = "<|endoftext|>") -> None:
    """CLIP's standard vocabulary; SD 1.x and SDXL's `tokenizer` pad with EOS, SDXL's `tokenizer_2` with "!"."""
    with open(MERGES_SWIFT, encoding="utf-8") as f:
        source = f.read()
    match = re.search(r'##"""\n(.*?)\n"""##', source, re.S)
    if match is None:
        sys.exit(f"cannot find the merges literal in {MERGES_SWIFT}")
    lines = match.group(1).split("\n")
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]
    symbols = bytes_to_unicode()
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    if len(vocab) != 49408:
        sys.exit(f"standard CLIP vocabulary should have 49408 entries, built {len(vocab)}")
    os.makedirs(folder, exist_ok=True)
    vocab_path, merges_path = os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump({token: i for i, token in enumerate(vocab)}, f, ensure_ascii=False)
    with open(merges_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    # Let transformers write its own tokenizer_config.json / special_tokens_map.json.
    tokenizer = CLIPTokenizer(vocab_path, merges_path, pad_token=pad_token, model_max_length=77)
    tokenizer.save_pretrained(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", default=os.path.join(REPO, "work/bench-sd15"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = args.folder
    torch.manual_seed(args.seed)
    unet = UNet2DConditionModel(**UNET_CONFIG)
    vae = AutoencoderKL(**VAE_CONFIG)
    text = CLIPTextModel(CLIPTextConfig(**TEXT_CONFIG))
    with torch.no_grad():
        for model in (unet, vae, text):
            for parameter in model.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.02)
    for model, name in ((unet, "unet"), (vae, "vae"), (text, "text_encoder")):
        model.eval()
        model.save_pretrained(os.path.join(out, name), safe_serialization=True)
    PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                  skip_prk_steps=True, steps_offset=1, set_alpha_to_one=False).save_pretrained(
        os.path.join(out, "scheduler"))
    write_tokenizer(os.path.join(out, "tokenizer"))
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
                   "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
                   "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                   "scheduler": ["diffusers", "PNDMScheduler"], "safety_checker": [None, None],
                   "feature_extractor": [None, None], "requires_safety_checker": False}, f, indent=2)
    sizes = {name: sum(p.numel() for p in m.parameters()) * 4 for name, m in
             (("unet", unet), ("vae", vae), ("text_encoder", text))}
    print(f"wrote {out}: " + ", ".join(f"{k} {v / 1e9:.3f} GB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
