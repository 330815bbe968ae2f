"""pandera's polars API, loaded as a polars-only install loads it: ``from schemas._pandera import pa``
(and pandera's ``errors``).

pandera's package imports pandas and its pandas API whenever pandas can be imported (pandas is
installed here: Great Expectations needs it), ~0.3-0.4 s of every run's start — a third of a
one-report ``nianbao validate``'s imports — for an API nianbao never calls: every schema is a
polars schema.  So pandas is hidden while pandera loads, and pandera takes the path it documents
for an install without pandas (``import pandas`` raising "No module named 'pandas'"); pandas
itself stays importable afterwards (the batch checks import it).  When pandas or pandera is
already loaded (Great Expectations ran first, or the tests imported them) nothing is hidden: the
polars API is the same either way (tests/rules/test_pandera_imports.py runs both).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """A finder that says pandas is not installed (what pandera's import expects then)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def _load() -> None:
    if "pandas" in sys.modules or "pandera" in sys.modules:
        return
    import polars  # noqa: F401  (first: polars notes at its import whether pandas is installed)

    hide = _WithoutPandas()
    sys.meta_path.insert(0, hide)
    try:
        import pandera.polars  # noqa: F401
        from pandera.backends import register_checks

        # the first check run looks for pandera's pandas types once (cached): looked for now, not found
        register_checks._load_get_backend_types_from_mro()
    finally:
        sys.meta_path.remove(hide)


_load()

import pandera.errors as errors  # noqa: E402  (loaded above)
import pandera.polars as pa  # noqa: E402

__all__ = ["errors", "pa"]
