"""all-MiniLM-L6-v2 as an int8 ONNX model: tokenised with ``tokenizers``, run with onnxruntime, no torch."""
from __future__ import annotations

from pathlib import Path

import numpy as np


class MiniLM:
    """Sentence vectors (384 dims, unit length): the model's token outputs, mean-pooled over real tokens."""

    dims = 384

    def __init__(self, onnx_path: Path, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from .export import MAX_TOKENS, model_dir

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Mean-pooled, unnormalised outputs for a batch of token ids."""
        hidden = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask,
                                         "token_type_ids": np.zeros_like(input_ids)})[0]
        mask = attention_mask[..., None].astype(np.float32)
        return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)

    def embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        pooled = self.run(ids, mask)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
