"""nianbao: data-quality validation of 政府信息公开工作年度报告."""

import os

# numpy's BLAS (OpenBLAS) on one thread: nianbao's matrices are tiny (the localisation's 42 × 190
# systems, thousands of them), where waking OpenBLAS's thread pool costs ~1–3 ms a product on a
# busy machine — 20× the product itself — and polars already keeps the cores busy.  Read by
# OpenBLAS when numpy is first imported, so set here, before any module of the package imports it
# (an explicit OPENBLAS_NUM_THREADS in the environment wins).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
