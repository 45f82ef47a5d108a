"""Entities in the notebook: IPs, hosts, accounts, files, processes... with MSTICPy's
class and property names, shown as HTML cards and used as the anchors of pivots.

One class per kind of the Rust entity model (``IpAddress``, ``Host``, ``Account``,
``Dns``, ``Url``, ``File``, ``Process`` and the rest), made from the model's own list
of kinds and properties, so the two never differ. Properties keep their Sentinel
names (``Address``, ``HostName``, ``CommandLine``); linked entities are entity
objects (a process's ``ImageFile``, ``ParentProcess``, ``Host``). Reading Sentinel's
``Entities`` JSON, describing an entity and drawing its card are done in Rust.

Example::

    import huntbook as hb
    ip = hb.IpAddress("38.75.137.9")                  # the identifying property
    host = hb.Host(HostName="WORKSTATION-07", DnsDomain="contoso.local")
    host.description                                  # 'WORKSTATION-07.contoso.local'
    hosts = hb.Host.from_frame(df, HostName="Computer")
    ents = hb.entities.from_alert(alerts.iloc[0])     # the alert's entities
    per_alert = hb.entities.from_alerts(alerts)       # every row's, in one pass
    hb.IpAddress.ti.lookup_ipv4(ip)                   # pivots (see huntbook.pivots)
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Type

from huntbook import _huntbook

__all__ = ["Entity", "from_alert", "from_alerts", "from_json", "entity_classes"]


class _EntityType(type):
    """The entity classes' type: pivot containers (``IpAddress.ti``, ``Host.LocalData``)
    are found on first access, so using one needs no setup."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        container = importlib.import_module("huntbook.pivots").container(cls, name)
        if container is None:
            raise AttributeError(
                f"{cls.__name__} has no attribute or pivot container {name!r}; "
                f"its pivots: {', '.join(sorted(importlib.import_module('huntbook.pivots').list_pivots(cls)))}"
            )
        return container

    def __dir__(cls) -> List[str]:
        pivots = importlib.import_module("huntbook.pivots")
        return sorted(set(super().__dir__()) | set(pivots.list_pivots(cls)))


class Entity(metaclass=_EntityType):
    """An entity: its kind's properties by their Sentinel names.

    Args:
        value: the kind's identifying property (``Address`` of an IP, ``HostName``
            of a host, ``Name`` of an account), or a row (a pandas Series or a dict)
            whose keys are property names.
        **properties: properties by name (case is ignored for the kind's own names;
            other names are kept as they are). A linking property takes an entity,
            a dict of properties or a list of them.

    Example::

        >>> hb.Process(CommandLine="cmd /c whoami", ProcessId="4242",
        ...            ImageFile=hb.File(Name="cmd.exe", Directory="C:\\\\Windows\\\\System32"))
        Process(ProcessId='4242', CommandLine='cmd /c whoami', ImageFile=File(...))
    """

    _kind = "Unknown"
    _tag: Optional[str] = None
    _key: Optional[str] = None
    _properties: Tuple[str, ...] = ()
    _links: Dict[str, str] = {}
    _by_lower: Dict[str, str] = {}

    def __init__(self, value: Any = None, **properties: Any) -> None:
        object.__setattr__(self, "properties", {})
        if value is None:
            pass
        elif isinstance(value, (dict, Mapping)) or _is_series(value):
            properties = {**{str(k): v for k, v in dict(value).items()}, **properties}
        else:
            if self._key is None:
                raise TypeError(
                    f"{type(self).__name__} has no single identifying property: give its properties by name "
                    f"({', '.join(self._properties)})"
                )
            properties = {self._key: value, **properties}
        for name, item in properties.items():
            self[name] = item

    # Properties read and write as attributes and as items.
    def _name(self, name: str) -> str:
        return self._by_lower.get(name.lower(), name)

    def __setitem__(self, name: str, value: Any) -> None:
        name = self._name(name)
        if name in ("Type", "$kind") or _missing(value):
            return
        target = self._links.get(name)
        if target is not None:
            value = _linked(value, target)
        self.properties[name] = value

    def __getitem__(self, name: str) -> Any:
        return self.properties[self._name(name)]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        known = self._name(name)
        if known in self.properties:
            return self.properties[known]
        if known in self._properties:
            return None
        raise AttributeError(
            f"{type(self).__name__} has no property {name!r}; its properties: {', '.join(self._properties)}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.to_json() == self.to_json()

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(self.to_json(), sort_keys=True, default=str)))

    def to_json(self) -> Dict[str, Any]:
        """The entity as Sentinel JSON, linked entities written inline."""
        out: Dict[str, Any] = {"Type": self.properties.get("Type", self._tag or "unknown")}
        for name, value in self.properties.items():
            out[name] = _plain(value)
        return out

    def _summary(self) -> Tuple[str, Optional[str]]:
        return _huntbook.entity_summaries(json.dumps([self.to_json()], default=str))[0]

    @property
    def description(self) -> str:
        """A one-line name: the FQDN of a host, ``DOMAIN\\\\name`` of an account,
        ``cmd.exe (4242)`` of a process, the address of an IP."""
        return self._summary()[0]

    @property
    def observable(self) -> Optional[str]:
        """The value a lookup or pivot uses: the address, URL, domain, strongest hash,
        host FQDN, account UPN, command line..."""
        return self._summary()[1]

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={type(v).__name__}(...)" if isinstance(v, Entity) else f"{k}={v!r}"
            for k, v in self.properties.items()
        )
        return f"{type(self).__name__}({shown})"

    def _repr_html_(self) -> str:
        return _huntbook.entity_html(json.dumps([self.to_json()], default=str))

    @classmethod
    def from_frame(cls, data: Any, **columns: str) -> List["Entity"]:
        """One entity per row of ``data``. ``columns`` maps properties to columns
        (``HostName="Computer"``); without it, columns named like the kind's
        properties are used.

        Example::

            >>> hosts = hb.Host.from_frame(procs, HostName="Computer")
        """
        if not columns:
            columns = {p: p for p in cls._properties if p in data.columns}
            if not columns:
                raise ValueError(
                    f"no column of the DataFrame is named like a {cls.__name__} property; map them: "
                    f"{cls.__name__}.from_frame(df, {cls._key or cls._properties[0]}='column')"
                )
        missing = [c for c in columns.values() if c not in data.columns]
        if missing:
            raise KeyError(
                f"column(s) {', '.join(map(repr, missing))} are not in the DataFrame; "
                f"the columns are: {', '.join(map(str, data.columns))}"
            )
        names = list(columns)
        return [cls(**dict(zip(names, row))) for row in data[list(columns.values())].itertuples(index=False)]

    @classmethod
    def pivots(cls) -> Dict[str, List[str]]:
        """The pivot functions attached to this kind, by container."""
        return importlib.import_module("huntbook.pivots").list_pivots(cls)


def _is_series(value: Any) -> bool:
    return type(value).__name__ == "Series" and hasattr(value, "index")


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA: an empty cell of a row."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if isinstance(value, (str, bool, int, Entity, list, dict, tuple)):
        return False
    try:
        return bool(value != value)  # NaT
    except TypeError:
        return True  # pd.NA, whose comparisons are NA
    except ValueError:
        return False  # an array


def _linked(value: Any, kind: str) -> Any:
    """A linking property's value as entities: dicts become entities of the kind the
    property holds."""
    if isinstance(value, (Entity, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_linked(v, kind) for v in value]
    if isinstance(value, Mapping):
        return _entity(dict(value), kind)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Entity):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _entity(data: Dict[str, Any], kind: str = "Unknown") -> Entity:
    """An entity from the nested form (Rust's, or a dict given for a link): every
    entity in it is marked with its ``$kind``."""
    cls = _CLASSES.get(str(data.pop("$kind", kind)), Entity)
    entity = cls.__new__(cls)
    properties: Dict[str, Any] = {}
    object.__setattr__(entity, "properties", properties)
    tag = data.pop("Type", None)
    if cls is Entity and tag is not None:
        properties["Type"] = tag  # a type the model does not know
    for name, value in data.items():
        if isinstance(value, dict) and ("$kind" in value or name in cls._links):
            value = _entity(value, cls._links.get(name, "Unknown"))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and (
            name in cls._links or all("$kind" in v for v in value)
        ):
            value = [_entity(v, cls._links.get(name, "Unknown")) for v in value]
        if not _missing(value):
            properties[cls._by_lower.get(name.lower(), name)] = value
    return entity


def from_json(entities: Any) -> List[Entity]:
    """Entities from Sentinel ``Entities`` JSON (text, or the parsed list).

    Example::

        >>> hb.entities.from_json('[{"Type": "ip", "Address": "10.0.0.1"}]')
        [IpAddress(Address='10.0.0.1')]
    """
    text = entities if isinstance(entities, str) else json.dumps(entities, default=str)
    return [_entity(item) for item in json.loads(_huntbook.entities_nested([text]))[0]]


def from_alerts(alerts: Any, column: str = "Entities") -> List[List[Entity]]:
    """The entities of every row of an alerts (or incidents) DataFrame, read in one
    pass: a list per row, in row order.

    Example::

        >>> per_alert = hb.entities.from_alerts(alerts)
        >>> hosts = {e.description for row in per_alert for e in row if isinstance(e, hb.Host)}
    """
    if column not in alerts.columns:
        raise KeyError(f"column {column!r} is not in the DataFrame; the columns are: {', '.join(map(str, alerts.columns))}")
    texts = [
        "" if _missing(v) else v if isinstance(v, str) else json.dumps(list(v), default=str)
        for v in alerts[column]
    ]
    return [[_entity(item) for item in row] for row in json.loads(_huntbook.entities_nested(texts))]


def from_alert(alert: Any) -> List[Entity]:
    """The entities of an alert or incident: a ``SecurityAlert`` row (a Series), a
    dict, or anything with an ``Entities`` field (JSON text or a list).

    Example::

        >>> ents = hb.entities.from_alert(alerts.iloc[0])
        >>> [e for e in ents if isinstance(e, hb.Host)]
    """
    if isinstance(alert, (str, list)):
        return from_json(alert)
    entities = alert.get("Entities") if hasattr(alert, "get") else getattr(alert, "Entities", None)
    if _missing(entities) or entities in ("", "[]"):
        return []
    return from_json(entities)


def _make_classes() -> Dict[str, Type[Entity]]:
    classes: Dict[str, Type[Entity]] = {}
    for name, tag, key, properties, links in _huntbook.entity_kinds():
        doc = (
            f"A {name} entity (Sentinel type ``{tag}``).\n\n"
            f"Properties: {', '.join(properties)}.\n"
            + (f"``{name}(value)`` sets ``{key}``." if key else "")
        )
        classes[name] = _EntityType(
            name,
            (Entity,),
            {
                "__doc__": doc,
                "__module__": __name__,
                "_kind": name,
                "_tag": tag,
                "_key": key,
                "_properties": tuple(properties),
                "_links": dict(links),
                "_by_lower": {p.lower(): p for p in properties},
            },
        )
    return classes


_CLASSES = _make_classes()
globals().update(_CLASSES)
__all__ += list(_CLASSES)


def entity_classes() -> Dict[str, Type[Entity]]:
    """Every entity class by name."""
    return dict(_CLASSES)
