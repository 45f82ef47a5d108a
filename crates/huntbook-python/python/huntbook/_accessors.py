"""huntbook's pandas accessors (``df.hb``, ``df.hb_tree``), registered without
importing pandas.

``import huntbook`` must stay fast, so pandas is not imported for it. The accessors
are registered as soon as pandas is there: at once when pandas was imported first,
otherwise by a one-shot import hook that runs when pandas finishes loading. Each
accessor's class lives in the module that implements it and is imported on first use
(``df.hb`` imports huntbook.plot, not before).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any, Dict, Optional, Tuple

# accessor name -> (module, class)
ACCESSORS: Dict[str, Tuple[str, str]] = {
    "hb": ("huntbook.plot", "HuntbookAccessor"),
    "hb_tree": ("huntbook.proctree", "ProcessTreeAccessor"),
    "hb_pivot": ("huntbook.pivots", "PivotAccessor"),
}


def _deferred(module: str, cls: str) -> type:
    # pandas calls the registered class with the frame on first `df.<name>` and caches
    # what it returns, so a factory returning the real accessor works unchanged.
    class Deferred:
        __doc__ = f"See {module}.{cls}."

        def __new__(_cls, obj: Any) -> Any:
            return getattr(importlib.import_module(module), cls)(obj)

    return Deferred


def _register() -> None:
    import warnings

    from pandas.api.extensions import register_dataframe_accessor

    for name, (module, cls) in ACCESSORS.items():
        with warnings.catch_warnings():
            # Registering over an older registration (a reloaded huntbook) is fine.
            warnings.simplefilter("ignore", UserWarning)
            register_dataframe_accessor(name)(_deferred(module, cls))


class _AfterPandas:
    """A meta-path finder (the protocol needs only ``find_spec``; subclassing
    importlib.abc would cost 20 ms of imports): finds pandas with the other finders,
    then registers once it has loaded."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Optional[Any]:
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            _register()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def register_when_pandas_loads() -> None:
    """Registers the accessors now if pandas is loaded, else when it is."""
    if "pandas" in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterPandas())
