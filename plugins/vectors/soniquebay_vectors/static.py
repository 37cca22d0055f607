"""The light embedder: a text's vector is the mean of its tokens' rows in a table distilled from MiniLM.

No neural network runs: tokenising and averaging a few rows costs microseconds,
and the table (30,522 tokens × ``dims`` float32) is a few megabytes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


class StaticEmbedder:
    def __init__(self, table_path: Path):
        from tokenizers import Tokenizer

        from .export import MAX_TOKENS, model_dir

        self.table = np.load(table_path)["table"]
        self.dims = self.table.shape[1]
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            if encoding.ids:
                out[row] = self.table[encoding.ids].mean(axis=0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
