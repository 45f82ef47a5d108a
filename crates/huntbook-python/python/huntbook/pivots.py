"""Pivots: the functions that apply to an entity, attached to its class, and the
``df.hb_pivot`` pipeline that chains them (MSTICPy's pivot functions).

Each entity class has containers of functions that take its values:

- ``ti``: threat-intel lookups per observable type, across the configured
  providers (``IpAddress.ti.lookup_ip``, ``lookup_ipv4``, ``lookup_ipv6``;
  ``Dns.ti.lookup_dns``; ``File.ti.lookup_file_hash``; ``Url.ti.lookup_url``) and
  per provider (``IpAddress.ti.lookup_ipv4_OTX``). Made on first use from
  ``huntbook.TILookup()``.
- ``util``: ``IpAddress.util.whois``, ``geoloc``, ``ip_type``;
  ``Process.util.b64decode`` and ``ioc_extract`` (also ``Url.util``).
- one container per data environment (``Host.LocalData``, ``Account.MSSentinel``)
  holding every query of a ``QueryProvider`` whose parameters name an attribute of
  the entity (``host_name`` -> Host, ``ip_address`` -> IpAddress, ``account_name``
  -> Account...; the table is Rust's). Creating or connecting a provider attaches
  its queries.

Every pivot function takes a value, a list of values, entities, or a DataFrame with
``column=``, runs once per distinct value, and with ``join="inner"|"left"|"right"|
"outer"`` joins the results back to the input rows on the value.

Example::

    import huntbook as hb
    hb.IpAddress.ti.lookup_ipv4("38.75.137.9")
    hb.IpAddress.util.ip_type(["10.0.0.1", "8.8.8.8"])
    qp = hb.QueryProvider("LocalData", data_paths=["data"])
    hb.Host.LocalData.list_host_processes(host_name="WORKSTATION-07.contoso.local")
    hosts.hb_pivot.run(hb.Host.LocalData.list_host_processes, column="Computer", join="left")
    hb.pivots.Pipeline.from_yaml("pipelines.yaml").run(data=df)
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from numbers import Number
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import pandas as pd

from huntbook import _huntbook
from huntbook.entities import Entity, entity_classes

__all__ = [
    "PivotFunction", "PivotContainer", "PivotAccessor", "Pipeline", "PipelineStep",
    "container", "list_pivots", "attach_provider", "parse_pipelines", "ti_lookup", "set_ti_lookup",
]

# The column of a runner's result that holds the input value each row answers.
_KEY = "__hb_pivot_value"
_JOINS = ("inner", "left", "right", "outer")

Runner = Callable[..., pd.DataFrame]


class PivotFunction:
    """A function attached to an entity: call it with a value, a list, entities or a
    DataFrame and ``column=``; ``join=`` joins its results back to the input.

    ``name`` is the keyword the value may also be given by (``host_name="ws1"``
    for a query, ``value=`` always works)."""

    def __init__(
        self,
        name: str,
        entity: type,
        attribute: str,
        runner: Runner,
        *,
        input_name: str,
        doc: str,
        one_call: Optional[Runner] = None,
    ) -> None:
        self.__name__ = name
        self.entity = entity
        self.attribute = attribute
        self.input_name = input_name
        self._runner = runner
        # Answers all values in one call, when that is faster and no join is asked.
        self._one_call = one_call
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"<pivot {self.entity.__name__}.{self.__name__}({self.input_name}) on {self.attribute}>"

    def __call__(
        self,
        data: Any = None,
        *,
        column: Optional[str] = None,
        join: Optional[str] = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        if data is None:
            for name in (self.input_name, "value"):
                if name in kwargs:
                    data = kwargs.pop(name)
                    break
        elif isinstance(data, pd.DataFrame) and column is None and isinstance(kwargs.get(self.input_name), str):
            # MSTICPy's form: the query parameter names the input column.
            column = kwargs.pop(self.input_name)
        if data is None:
            raise TypeError(
                f"{self.__name__}() needs its input: a value, a list, entities or a DataFrame with column= "
                f"(or {self.input_name}=...)"
            )
        if join is not None and join not in _JOINS:
            raise ValueError(f"join={join!r}: use one of {', '.join(_JOINS)}")
        frame, column = self._input_frame(data, column)
        keys = frame[column].map(lambda v: None if _blank(v) else self._value(v))
        values = list(dict.fromkeys(v for v in keys if v is not None))
        if not values:
            result = pd.DataFrame()
        elif join is None and self._one_call is not None:
            return self._one_call(values, **kwargs)
        else:
            result = self._runner(values, **kwargs)
        if join is None:
            return result.drop(columns=[_KEY], errors="ignore").reset_index(drop=True)
        if result.empty:
            result = pd.DataFrame({_KEY: pd.Series(dtype=object)})
        left = frame.assign(**{_KEY: keys})
        clashing = [c for c in result.columns if c in left.columns and c != _KEY]
        right = result.rename(columns={c: f"{c}_{self.__name__}" for c in clashing})
        return left.merge(right, on=_KEY, how=join).drop(columns=[_KEY])

    def _input_frame(self, data: Any, column: Optional[str]) -> "tuple[pd.DataFrame, str]":
        if isinstance(data, pd.DataFrame):
            if column is None:
                raise TypeError(f"{self.__name__}(df, ...) needs column= (the column of {self.attribute} values)")
            if column not in data.columns:
                raise KeyError(
                    f"column {column!r} is not in the DataFrame; the columns are: {', '.join(map(str, data.columns))}"
                )
            return data, column
        items = list(data) if isinstance(data, (list, tuple, set, pd.Series, pd.Index)) else [data]
        return pd.DataFrame({self.attribute: items}), self.attribute

    def _value(self, value: Any) -> str:
        if isinstance(value, Entity):
            found = getattr(value, self.attribute, None) if self.attribute in value._properties else None
            found = found if found is not None else value.observable
            if found is None:
                raise ValueError(
                    f"{self.__name__}(): the {type(value).__name__} {value!r} has no {self.attribute} to look up"
                )
            return str(found)
        return str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA or value == ""


class PivotContainer:
    """Pivot functions as attributes (``IpAddress.util``)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._functions: Dict[str, PivotFunction] = {}

    def _add(self, function: PivotFunction, name: Optional[str] = None) -> None:
        self._functions[name or function.__name__] = function

    def __getattr__(self, name: str) -> PivotFunction:
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(
            f"no pivot {name!r} in {self.__dict__.get('_name')}; it has: {', '.join(sorted(functions))}"
        )

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._functions))

    def __iter__(self):
        return iter(sorted(self._functions.items()))

    def __len__(self) -> int:
        return len(self._functions)

    def __repr__(self) -> str:
        return f"<pivots {self._name}: {', '.join(sorted(self._functions))}>"


# --- util: WhoIs, GeoIP, IP type, base64 decoding, IoC extraction -------------------


def _keyed(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    return frame.assign(**{_KEY: list(keys)})


def _whois(values: List[str], **kwargs: Any) -> pd.DataFrame:
    from huntbook.geo import whois

    return _keyed(whois(values, **kwargs), values)


def _geoloc(values: List[str], **kwargs: Any) -> pd.DataFrame:
    from huntbook.geo import geoip

    return _keyed(geoip(values, **kwargs), values)


def _ip_type(values: List[str], **_: Any) -> pd.DataFrame:
    from huntbook.geo import ip_type

    return _keyed(pd.DataFrame({"ip": values, "result": [ip_type(v) for v in values]}), values)


def _texts(attribute: str, transform: Callable[[pd.DataFrame, str], pd.DataFrame], index: str) -> Runner:
    """A runner for a transform of a text column: its rows carry the source row's
    index, which gives the value they came from."""

    def run(values: List[str], **kwargs: Any) -> pd.DataFrame:
        result = transform(pd.DataFrame({attribute: values}), attribute, **kwargs)
        return result.assign(**{_KEY: [values[int(i)] for i in result[index]]})

    return run


def _b64decode(frame: pd.DataFrame, column: str, **kwargs: Any) -> pd.DataFrame:
    from huntbook.transforms import unpack_base64

    return unpack_base64(frame, column, **kwargs)


def _ioc_extract(frame: pd.DataFrame, column: str, **kwargs: Any) -> pd.DataFrame:
    from huntbook.transforms import extract_iocs

    return extract_iocs(frame, column, **kwargs)


# (container name, function name, entity -> attribute, runner maker, doc)
_UTIL = [
    ("whois", {"IpAddress": "Address"}, lambda attr: _whois,
     "WhoIs (AS and registered networks) of addresses, as huntbook.whois."),
    ("geoloc", {"IpAddress": "Address"}, lambda attr: _geoloc,
     "The location of addresses, as huntbook.geoip."),
    ("ip_type", {"IpAddress": "Address"}, lambda attr: _ip_type,
     "Public, Private, Loopback... of addresses (columns ip, result), as huntbook.ip_type."),
    ("b64decode", {"Process": "CommandLine", "Url": "Url"}, lambda attr: _texts(attr, _b64decode, "src_index"),
     "Base64 (and archives in it) decoded from the text, as huntbook.unpack_base64."),
    ("ioc_extract", {"Process": "CommandLine", "Url": "Url"}, lambda attr: _texts(attr, _ioc_extract, "SourceIndex"),
     "Indicators found in the text, as huntbook.extract_iocs."),
]


def _util_container(entity: type) -> Optional[PivotContainer]:
    box = PivotContainer(f"{entity.__name__}.util")
    for name, entities, make, doc in _UTIL:
        attribute = entities.get(entity.__name__)
        if attribute:
            box._add(PivotFunction(name, entity, attribute, make(attribute), input_name="value", doc=doc))
    return box if len(box) else None


# --- ti: threat intelligence per observable type and provider -----------------------

# IoC type -> (entity, attribute, query keys a provider must answer, type forced or None)
_TI_TYPES = {
    "ip": ("IpAddress", "Address", ("ipv4", "ipv6"), None),
    "ipv4": ("IpAddress", "Address", ("ipv4",), "ipv4"),
    "ipv6": ("IpAddress", "Address", ("ipv6",), "ipv6"),
    "dns": ("Dns", "DomainName", ("dns",), "dns"),
    "file_hash": ("File", "Sha256", ("file_hash", "md5_hash", "sha1_hash", "sha256_hash"), None),
    "url": ("Url", "Url", ("url",), "url"),
}

_TI: Dict[str, Any] = {}


def ti_lookup() -> Any:
    """The ``TILookup`` the ``ti`` pivots use: ``huntbook.TILookup()`` with the
    configured providers, made on first use. :func:`set_ti_lookup` replaces it."""
    if "lookup" not in _TI:
        from huntbook.ti import TILookup

        _TI["lookup"] = TILookup()
    return _TI["lookup"]


def set_ti_lookup(lookup: Any) -> None:
    """Use ``lookup`` (a ``huntbook.TILookup``) for the ``ti`` pivots from now on;
    ``None`` makes a new one from the configuration on next use."""
    if lookup is None:
        _TI.pop("lookup", None)
    else:
        _TI["lookup"] = lookup
    for cls in entity_classes().values():
        _BOXES.get(cls, {}).pop("ti", None)


def _ti_runner(ioc_type: Optional[str], providers: List[str]) -> Runner:
    def run(values: List[str], **kwargs: Any) -> pd.DataFrame:
        kwargs.setdefault("providers", providers)
        data: Any = {v: ioc_type for v in values} if ioc_type else values
        result = ti_lookup().lookup_iocs(data, **kwargs)
        return result.assign(**{_KEY: result["Ioc"].astype(str)})

    return run


def _ti_container(entity: type) -> Optional[PivotContainer]:
    types = {k: v for k, v in _TI_TYPES.items() if v[0] == entity.__name__}
    if not types:
        return None
    supported = dict(ti_lookup()._lookup.provider_query_keys())
    box = PivotContainer(f"{entity.__name__}.ti")
    for ioc, (_, attribute, keys, forced) in types.items():
        providers = [p for p, answered in supported.items() if set(keys) & set(answered)]
        doc = f"Threat intelligence on {ioc} observables from {', '.join(providers) or 'no loaded provider'}."
        box._add(PivotFunction(f"lookup_{ioc}", entity, attribute, _ti_runner(forced, providers),
                               input_name="value", doc=doc))
        for provider in providers:
            box._add(PivotFunction(f"lookup_{ioc}_{provider}", entity, attribute, _ti_runner(forced, [provider]),
                                   input_name="value", doc=f"Threat intelligence on {ioc} observables from {provider}."))
    return box


# --- data queries, by environment ---------------------------------------------------

# Environment name -> the provider whose queries are attached (the latest made).
_PROVIDERS: Dict[str, Any] = {}
_BOXES: Dict[type, Dict[str, PivotContainer]] = {}


def attach_provider(provider: Any) -> None:
    """Attach ``provider``'s queries to the entities their parameters name, under the
    provider's environment (``Host.LocalData``). ``QueryProvider`` calls this when it
    is made and when it connects."""
    _PROVIDERS[provider.environment] = provider
    for boxes in _BOXES.values():
        boxes.pop(provider.environment, None)


def _query_runner(provider: Any, qualified: str, param: str, is_list: bool) -> Runner:
    def call(value: Any, kwargs: Dict[str, Any]) -> pd.DataFrame:
        query = provider
        for part in qualified.split("."):
            query = getattr(query, part)
        return query(**{param: value}, **kwargs)

    def run(values: List[str], **kwargs: Any) -> pd.DataFrame:
        frames = [call([v] if is_list else v, kwargs).assign(**{_KEY: v}) for v in values]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    run.one_call = (lambda values, **kwargs: call(values, kwargs)) if is_list else None  # type: ignore[attr-defined]
    return run


def _query_container(entity: type, environment: str) -> Optional[PivotContainer]:
    provider = _PROVIDERS.get(environment)
    if provider is None:
        return None
    box = PivotContainer(f"{entity.__name__}.{environment}")
    found = [q for q in provider._core.pivot_queries() if q[2] == entity.__name__]
    names = [q[0].rpartition(".")[2] for q in found]
    for (qualified, param, _, attribute, is_list), name in zip(found, names):
        if names.count(name) > 1:  # the same query name in two families
            name = qualified.replace(".", "_")
        if name in box._functions:  # a query anchoring the entity by two parameters
            name = f"{name}_{param}"
        runner = _query_runner(provider, qualified, param, is_list)
        box._add(PivotFunction(name, entity, attribute, runner, input_name=param,
                               one_call=getattr(runner, "one_call", None),
                               doc=f"{qualified} with {param} from the {entity.__name__}'s {attribute}.\n\n"
                                   + provider._core.help(qualified)))
    return box if len(box) else None


# --- finding containers --------------------------------------------------------------


def container(entity: type, name: str) -> Optional[PivotContainer]:
    """The pivot container ``name`` of an entity class (``ti``, ``util``, or a data
    environment such as ``LocalData``), or ``None``."""
    boxes = _BOXES.setdefault(entity, {})
    if name not in boxes:
        if name == "util":
            made = _util_container(entity)
        elif name == "ti":
            made = _ti_container(entity)
        else:
            made = _query_container(entity, name)
        if made is None:
            return None
        boxes[name] = made
    return boxes[name]


def list_pivots(entity: Union[type, Entity]) -> Dict[str, List[str]]:
    """The pivot functions of an entity class, by container (``ti`` is listed once
    threat intelligence is configured; query containers once a provider exists).

    Example::

        >>> hb.pivots.list_pivots(hb.IpAddress)["util"]
        ['geoloc', 'ip_type', 'whois']
    """
    cls = entity if isinstance(entity, type) else type(entity)
    names = ["util", "ti", *_PROVIDERS.keys()]
    found: Dict[str, List[str]] = {}
    for name in names:
        try:
            box = container(cls, name)
        except (OSError, ValueError):
            box = None  # threat intelligence not configured
        if box is not None:
            found[name] = sorted(box._functions)
    return found


# --- the df.hb_pivot accessor ----------------------------------------------------------


def _match_columns(columns: Iterable[Any], expr: str, match_case: bool = False) -> List[Any]:
    """Columns named by ``expr``: the name (any case), a wildcard pattern or a regex."""
    columns = list(columns)
    exact = [c for c in columns if str(c) == expr] or (
        [] if match_case else [c for c in columns if str(c).lower() == expr.lower()]
    )
    if exact:
        return exact
    flags = 0 if match_case else re.IGNORECASE
    pattern = fnmatch.translate(expr) if any(ch in expr for ch in "*?") else expr
    try:
        regex = re.compile(pattern, flags)
    except re.error as error:
        raise ValueError(f"{expr!r} is neither a column, a wildcard pattern nor a regular expression: {error}")
    return [c for c in columns if regex.fullmatch(str(c)) or regex.match(str(c))]


class PivotAccessor:
    """``df.hb_pivot``: run pivots on a DataFrame and chain steps, each returning a
    DataFrame (MSTICPy's ``mp_pivot``).

    Example::

        >>> (df.hb_pivot.run(hb.IpAddress.util.ip_type, column="IP", join="left")
        ...    .hb_pivot.filter("Public").hb_pivot.sort("IP:desc"))
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._df = frame

    def run(self, func: Callable[..., pd.DataFrame], **kwargs: Any) -> pd.DataFrame:
        """Run a pivot function on this DataFrame: ``column=`` (or the query
        parameter's name) names the input column, ``join=`` joins the results."""
        return func(data=self._df, **kwargs)

    def display(self, title: Optional[str] = None, cols: Optional[Iterable[str]] = None,
                query: Optional[str] = None, head: Optional[int] = None) -> pd.DataFrame:
        """Show the DataFrame (some columns, the rows a pandas query keeps, the first
        rows) and pass it on unchanged."""
        from IPython.display import HTML, display

        shown = self._df
        if query:
            shown = shown.query(query)
        if cols:
            shown = shown[list(cols)]
        if head:
            shown = shown.head(head)
        if title:
            import html

            display(HTML(f"<h3>{html.escape(title)}</h3>"))
        display(shown)
        return self._df

    def tee(self, var_name: str, clobber: bool = False) -> pd.DataFrame:
        """Save the DataFrame as the notebook variable ``var_name`` (kept if it exists,
        unless ``clobber``) and pass it on."""
        namespace = _user_namespace()
        if var_name in namespace and not clobber:
            import warnings

            warnings.warn(f"did not overwrite the existing variable {var_name!r} (clobber=True does)", stacklevel=2)
        else:
            namespace[var_name] = self._df
        return self._df

    def tee_exec(self, df_func: str, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """Run a DataFrame method (``"head"``) or accessor method
        (``"hb.timeline"``) for its effect and pass the DataFrame on unchanged."""
        _frame_method(self._df, df_func)(*args, **kwargs)
        return self._df

    def filter(self, expr: Union[str, Number], match_case: bool = False, numeric_col: bool = False) -> pd.DataFrame:
        """Rows where any text column matches the regular expression ``expr`` (or,
        for a number or ``numeric_col=True``, any numeric column contains it)."""
        if isinstance(expr, str) and not numeric_col:
            texts = self._df.select_dtypes(include=["object", "string"])
            hits = texts.apply(lambda col: col.astype("string").str.contains(expr, regex=True, case=match_case, na=False))
        elif isinstance(expr, (Number, str)):
            numbers = self._df.select_dtypes(include="number")
            hits = numbers.apply(lambda col: col.astype("string").str.contains(str(expr), regex=True, na=False))
        else:
            raise TypeError(f"filter({expr!r}): give text (a regular expression) or a number")
        return self._df[hits.any(axis=1)] if len(hits.columns) else self._df.iloc[0:0]

    def filter_cols(self, cols: Union[str, Iterable[str]], match_case: bool = False,
                    sort_cols: bool = False) -> pd.DataFrame:
        """The columns named by ``cols``: names, wildcard patterns (``Sub*``) or
        regular expressions."""
        exprs = [cols] if isinstance(cols, str) else list(cols)
        kept = {c for e in exprs for c in _match_columns(self._df.columns, e, match_case)}
        if not kept:
            raise ValueError(f"no column matches {exprs}; the columns are: {', '.join(map(str, self._df.columns))}")
        order = sorted(kept, key=str) if sort_cols else [c for c in self._df.columns if c in kept]
        return self._df[order]

    def sort(self, cols: Union[str, Iterable[str], Mapping[str, bool]], ascending: Optional[bool] = None) -> pd.DataFrame:
        """Sort by columns: ``"TimeGenerated"``, ``"Count:desc, Name"``, a list of
        such, or ``{column: ascending}``. Names may be any case or a regex."""
        if isinstance(cols, Mapping):
            wanted = dict(cols)
        else:
            items = [c.strip() for c in cols.split(",")] if isinstance(cols, str) else list(cols)
            wanted = {}
            for item in items:
                name, _, order = item.partition(":")
                wanted[name.strip()] = order.strip().lower() != "desc"
        by: Dict[Any, bool] = {}
        for expr, up in wanted.items():
            matched = _match_columns(self._df.columns, expr)
            if not matched:
                raise ValueError(f"sort: {expr!r} names no column; the columns are: {', '.join(map(str, self._df.columns))}")
            by.update(dict.fromkeys(matched, up))
        order = ascending if ascending is not None else list(by.values())
        return self._df.sort_values(list(by), ascending=order)


def _frame_method(frame: pd.DataFrame, name: str) -> Callable[..., Any]:
    target: Any = frame
    parts = name.split(".")
    if parts[0] == "mp_pivot":  # MSTICPy's name for the accessor, in its pipelines
        parts[0] = "hb_pivot"
    for part in parts:
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"the DataFrame has no method or accessor {name!r}")
    if not callable(target):
        raise ValueError(f"{name!r} is not a DataFrame method")
    return target


def _user_namespace() -> Dict[str, Any]:
    """The notebook's variables (IPython's user namespace), else ``__main__``'s."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


# --- YAML pipelines ------------------------------------------------------------------


class PipelineStep:
    """One step of a :class:`Pipeline`, as read from YAML."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.name: str = spec["name"]
        self.step_type: str = spec["step_type"]
        self.function: Optional[str] = spec.get("function")
        self.entity: Optional[str] = spec.get("entity")
        self.comment: Optional[str] = spec.get("comment")
        self.pos_params: List[Any] = list(spec.get("pos_params") or [])
        self.params: Dict[str, Any] = dict(spec.get("params") or {})
        self.line: int = spec.get("line", 0)

    def __repr__(self) -> str:
        return f"PipelineStep(name={self.name!r}, step_type={self.step_type!r}, function={self.function!r})"

    def run(self, data: pd.DataFrame) -> pd.DataFrame:
        pivot = data.hb_pivot
        if self.step_type == "pivot":
            func: Any = entity_classes()[self.entity]  # checked when read
            for part in (self.function or "").split("."):
                func = getattr(func, part)
            return pivot.run(func, *self.pos_params, **self.params)
        if self.step_type == "pivot_display":
            return pivot.display(*self.pos_params, **self.params)
        if self.step_type == "pivot_tee":
            return pivot.tee(*self.pos_params, **self.params)
        if self.step_type == "pivot_tee_exec":
            return pivot.tee_exec(self.function, *self.pos_params, **self.params)
        return _frame_method(data, self.function or "")(*self.pos_params, **self.params)


class Pipeline:
    """A pivot pipeline: steps run one after the other on a DataFrame (MSTICPy's
    YAML format, read and checked in Rust).

    Example::

        >>> pipeline = hb.pivots.Pipeline.from_yaml('''
        ... pipelines:
        ...   ip_checks:
        ...     steps:
        ...       - {name: types, step_type: pivot, entity: IpAddress, function: util.ip_type,
        ...          params: {column: IP, join: left}}
        ...       - {name: public, step_type: pd_accessor, function: query, pos_params: ["result == 'Public'"]}
        ... ''')
        >>> pipeline.run(data=df)
    """

    def __init__(self, name: str, description: Optional[str] = None,
                 steps: Optional[Iterable[PipelineStep]] = None) -> None:
        self.name = name
        self.description = description
        self.steps = list(steps or [])

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, steps={[s.name for s in self.steps]})"

    @classmethod
    def from_yaml(cls, text_or_path: Union[str, os.PathLike], name: Optional[str] = None) -> "Pipeline":
        """The pipeline ``name`` (or the only one) of a YAML document or file."""
        pipelines = parse_pipelines(text_or_path)
        if name is not None:
            for pipeline in pipelines:
                if pipeline.name == name:
                    return pipeline
            raise ValueError(f"no pipeline {name!r}; the document has {', '.join(p.name for p in pipelines)}")
        if len(pipelines) != 1:
            raise ValueError(
                f"the document has {len(pipelines)} pipelines ({', '.join(p.name for p in pipelines)}): "
                "choose one with name=, or use huntbook.pivots.parse_pipelines"
            )
        return pipelines[0]

    def run(self, data: pd.DataFrame, verbose: bool = False) -> pd.DataFrame:
        """Run the steps on ``data``; the result of the last step."""
        result = data
        for step in self.steps:
            if verbose:
                print(f"step {step.name} ({step.step_type})")
            try:
                result = step.run(result)
            except Exception as error:
                raise ValueError(
                    f"pipeline {self.name!r}, step {step.name!r} (line {step.line}): {type(error).__name__}: {error}"
                ) from error
            if not isinstance(result, pd.DataFrame):
                raise ValueError(
                    f"pipeline {self.name!r}, step {step.name!r} (line {step.line}) gave a "
                    f"{type(result).__name__}, not a DataFrame, so the next step has no input"
                )
        return result


def parse_pipelines(text_or_path: Union[str, os.PathLike]) -> List[Pipeline]:
    """Every pipeline of a YAML document or file, in order.

    Bad YAML, an unknown ``step_type`` or entity, or a step missing what it runs is a
    ``ValueError`` naming the pipeline, the step and the line."""
    text, source = str(text_or_path), "pipeline text"
    if isinstance(text_or_path, os.PathLike) or ("\n" not in text and os.path.isfile(text)):
        source = os.fspath(text_or_path)
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    return [
        Pipeline(p["name"], p.get("description"), [PipelineStep(s) for s in p["steps"]])
        for p in json.loads(_huntbook.pivot_pipelines(text, source))
    ]
