"""Stands for numpy/torch/librosa: records each time it is imported."""
import os
import time

if os.environ.get("SB_CALL_LOG"):
    with open(os.environ["SB_CALL_LOG"], "a") as fh:
        fh.write(f"import sb_heavy_lib {os.getpid()} {time.time():.4f}\n")
