"""Threat-intel lookups across providers, with MSTICPy's ``TILookup`` names.

Providers come from the ``TIProviders`` section of huntbook.yaml / msticpyconfig.yaml;
the lookups run in Rust, concurrently, and answers are cached. Results are DataFrames
with MSTICPy's columns ``Ioc, IocType, SafeIoc, QuerySubtype, Provider, Result,
Severity, Details, RawResult, Reference, Status``; ``Details`` and ``RawResult`` hold
dicts or lists where the provider answered JSON, text otherwise.

Example::

    ti = huntbook.TILookup()
    ti.lookup_ioc("38.75.137.9")
    ti.lookup_iocs(df, column="Observable", ioc_type_col="IoCType", providers=["OTX"])
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import to_batch, to_frame

__all__ = ["TILookup", "indicator_hits"]


def _json_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class TILookup:
    """Threat-intel providers and lookups across them.

    Args:
        config: a huntbook.yaml to use instead of searching for one.
        msticpy: a msticpyconfig.yaml to use instead of searching for one.
        cache_path: the answer cache file (default from ``TICache``).
        use_cache: set False to neither read nor write the cache.
    """

    def __init__(
        self,
        config: Optional[str] = None,
        *,
        msticpy: Optional[str] = None,
        cache_path: Optional[str] = None,
        use_cache: bool = True,
    ) -> None:
        self._lookup = _huntbook.TILookup(config, msticpy, cache_path, use_cache)

    @property
    def available_providers(self) -> List[str]:
        """The provider kinds a ``Provider:`` key may name."""
        return list(_huntbook.ti_available_providers())

    @property
    def loaded_providers(self) -> List[str]:
        """The names of the providers that loaded."""
        return list(self._lookup.loaded_providers())

    @property
    def provider_status(self) -> List[Dict[str, Any]]:
        """Every configured provider, and why it did not load if it did not."""
        return list(self._lookup.provider_status())

    def enable_provider(self, providers: Union[str, Iterable[str]]) -> None:
        for name in [providers] if isinstance(providers, str) else providers:
            self._lookup.set_provider_state(name, True)

    def disable_provider(self, providers: Union[str, Iterable[str]]) -> None:
        for name in [providers] if isinstance(providers, str) else providers:
            self._lookup.set_provider_state(name, False)

    def lookup_ioc(
        self,
        ioc: Optional[str] = None,
        ioc_type: Optional[str] = None,
        ioc_query_type: Optional[str] = None,
        providers: Optional[List[str]] = None,
        prov_scope: str = "primary",
        *,
        observable: Optional[str] = None,
        show_not_supported: bool = False,
        show_bad_ioc: bool = False,
    ) -> pd.DataFrame:
        """Look one observable up: one row per provider."""
        value = ioc if ioc is not None else observable
        if value is None:
            raise TypeError("lookup_ioc() needs the observable: lookup_ioc('38.75.137.9')")
        return self._run([str(value)], [ioc_type], ioc_query_type, providers, prov_scope,
                         show_not_supported, show_bad_ioc, None)

    def lookup_iocs(
        self,
        data: Union[pd.DataFrame, Mapping[str, str], Iterable[str]],
        column: Optional[str] = None,
        ioc_type_col: Optional[str] = None,
        ioc_query_type: Optional[str] = None,
        providers: Optional[List[str]] = None,
        prov_scope: str = "primary",
        progress: Optional[Callable[[int, int], Any]] = None,
        *,
        col: Optional[str] = None,
        obs_col: Optional[str] = None,
        ioc_col: Optional[str] = None,
        show_not_supported: bool = False,
        show_bad_ioc: bool = False,
    ) -> pd.DataFrame:
        """Look many observables up: a DataFrame column, a dict {observable: type} or
        an iterable of observables. ``progress(done, total)`` is called as answers
        arrive. ``col``, ``obs_col`` and ``ioc_col`` are MSTICPy's names for ``column``."""
        column = column or col or obs_col or ioc_col
        if isinstance(data, pd.DataFrame):
            if column is None:
                raise TypeError("lookup_iocs(df, ...) needs column= (the observables' column)")
            for name in [column] + ([ioc_type_col] if ioc_type_col else []):
                if name not in data.columns:
                    raise KeyError(
                        f"column {name!r} is not in the DataFrame; the columns are: "
                        + ", ".join(map(str, data.columns))
                    )
            values = data[column]
            keep = values.notna()
            iocs = [str(v) for v in values[keep]]
            types = ([None if pd.isna(t) else str(t) for t in data[ioc_type_col][keep]]
                     if ioc_type_col else [None] * len(iocs))
        elif isinstance(data, Mapping):
            iocs = [str(k) for k in data.keys()]
            types = [None if v is None else str(v) for v in data.values()]
        else:
            iocs = [str(v) for v in data]
            types = [None] * len(iocs)
        return self._run(iocs, types, ioc_query_type, providers, prov_scope,
                         show_not_supported, show_bad_ioc, progress)

    def _run(self, iocs, types, subtype, providers, scope, show_ns, show_bad, progress):
        return _results(self._lookup.lookup(iocs, types, subtype, providers, scope, show_ns, show_bad, progress))


def _results(batch: Any) -> pd.DataFrame:
    frame = to_frame(batch)
    for name in ("Details", "RawResult"):
        frame[name] = frame[name].astype(object).map(_json_cell)
    return frame


def indicator_hits(
    indicators: pd.DataFrame, observables: Iterable[str], *, reference: str = "", provider: str = "ThreatIntelligenceIndicator"
) -> pd.DataFrame:
    """TI results for the ``observables`` found in rows of a threat-intel indicator
    table already queried (Sentinel's ``ThreatIntelligenceIndicator``), rated as the
    Microsoft Sentinel TI provider rates them: High when an indicator's ``Action`` is
    alert or block or its ``ConfidenceScore`` is 80 or more, else Warning. Unlike a
    lookup, any address is matched, including the private and documentation ranges
    of lab data. Observables not found give no row.

    Example::

        >>> rows = qp.ThreatIntelligence.list_indicators_by_ip(observables=["203.0.113.66"])
        >>> huntbook.ti.indicator_hits(rows, ["203.0.113.66"])[["Ioc", "Severity"]]
    """
    if indicators.empty:
        return pd.DataFrame(columns=_huntbook.ti_result_columns())
    return _results(_huntbook.ti_indicator_hits(to_batch(indicators), [str(o) for o in observables], provider, reference))
