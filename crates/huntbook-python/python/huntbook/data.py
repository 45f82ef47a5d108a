"""Query providers: MSTICPy-format query templates run against a data environment.

``QueryProvider`` mirrors MSTICPy's: queries are attributes by family
(``qp.SecurityAlert.list_alerts(...)``), each returns a pandas DataFrame, and the
query files MSTICPy users already have load unchanged. The templates, the parameter
rules and the drivers are Rust (``huntbook-data``); this module is the Python face.

Example::

    import huntbook
    qp = huntbook.QueryProvider("LocalData", data_paths=["data"])  # huntbook sample-data -o data
    qp.connect()
    alerts = qp.SecurityAlert.list_alerts(start="-7d", end="now")
    qp.list_queries("logon")
    qp.WindowsSecurity.list_host_logons("help")     # parameters and query text
    print(qp.WindowsSecurity.list_host_logons(host_name="WS-01", print=True))
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import to_frame

__all__ = ["QueryProvider", "QueryFamily", "Query", "write_sample_data"]

PathLike = Union[str, os.PathLike]


class QueryProvider:
    """Runs the queries of one data environment.

    Args:
        data_environment: MSTICPy's environment names and aliases: ``LocalData``
            (the default; CSV, JSON lines and Parquet files), ``OSQueryLogs``,
            ``VelociraptorLogs``, ``MSSentinel``/``AzureSentinel``/``LogAnalytics``,
            ``Kusto``/``AzureDataExplorer``, ``MDE``/``MDATP``, ``M365D``,
            ``M365DGraph``, ``Splunk``, ``Elastic``, ``OpenSearch``.
        query_paths: extra folders of query YAML files, read after the built-in
            library (a query with the same name replaces the built-in one).
        data_paths: for the local environments, the folders holding the data files
            (default: ``DataProviders.<environment>.data_paths`` from the
            configuration, else the current folder for LocalData).
            ``huntbook sample-data -o DIR`` writes a sample SOC dataset to try.

    Example::

        >>> qp = huntbook.QueryProvider("LocalData", data_paths=["./data"])
        >>> qp.connect()
        >>> procs = qp.WindowsSecurity.list_host_processes(host_name="WS-01", start="-1d")
    """

    def __init__(
        self,
        data_environment: str = "LocalData",
        *,
        query_paths: Optional[Iterable[PathLike]] = None,
        data_paths: Optional[Iterable[PathLike]] = None,
    ) -> None:
        self._core = _huntbook.QueryProvider(
            data_environment,
            [str(p) for p in query_paths or []],
            [str(p) for p in data_paths or []],
        )
        self.environment: str = self._core.environment()
        self._families: Dict[str, QueryFamily] = {}
        self._add_queries()

    def _add_queries(self) -> None:
        self._add_query_attributes()
        # The queries that take an entity's attribute become its pivots
        # (hb.Host.LocalData.list_host_processes).
        importlib.import_module("huntbook.pivots").attach_provider(self)

    def _add_query_attributes(self) -> None:
        # Connecting can add queries (the tables an OSQuery log holds), so this runs
        # again after connect().
        for qualified in self._core.query_names():
            family, _, name = qualified.rpartition(".")
            node = self._family(family)
            if not isinstance(getattr(node, name, None), Query):
                setattr(node, name, Query(self, qualified))

    def _family(self, dotted: str) -> "QueryFamily":
        # Hierarchical families (`A.B.name`) become nested attributes.
        parent: Any = self
        path = []
        for part in dotted.split("."):
            path.append(part)
            key = ".".join(path)
            node = self._families.get(key)
            if node is None:
                node = QueryFamily(key)
                self._families[key] = node
                setattr(parent, part, node)
            parent = node
        return parent

    @property
    def connected(self) -> bool:
        """Whether queries can run: the local environments are connected when made,
        the remote ones by :meth:`connect`."""
        return bool(self._core.connections())

    def connect(
        self,
        connection_str: Optional[str] = None,
        *,
        credential: Any = None,
        endpoint: Optional[str] = None,
        timeout: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        """Connect to the environment's service, as MSTICPy's ``connect``.

        Settings come from the configuration (``msticpyconfig.yaml`` /
        ``huntbook.yaml``); keyword arguments override them for this connection:

        - MSSentinel: ``workspace="Name"`` (a workspace under
          ``AzureSentinel.Workspaces``; ``Default`` when not given), ``workspaces=[...]``
          (several at once), or ``workspace_id=`` and ``tenant_id=``; or MSTICPy's
          connection string ``"loganalytics://code().tenant('…').workspace('…')"``;
        - Kusto: ``cluster=`` (a configured name or a URL), ``database=``;
        - MDE, M365D, M365DGraph: ``tenant_id=``, ``client_id=``, ``client_secret=``;
        - Splunk: ``host=``, ``port=``, ``protocol=``, ``username=``, ``password=``,
          ``bearer_token=``;
        - Elastic, OpenSearch: ``url=``, ``index=``, ``api_key=``, ``username=``,
          ``password=``.

        ``credential`` signs in to the Microsoft services another way than the
        configuration says: ``"env"`` (``AZURE_CLIENT_ID``/``_SECRET``/``TENANT_ID``),
        ``"cli"``, ``"msi"`` or an ``azure.identity`` credential object. ``endpoint``
        sends the queries to another address (a sovereign cloud, a proxy). ``timeout``
        is how long the service may run a query, in seconds (default 300).

        The local environments are connected when the provider is made; for them this
        only checks that no arguments are given.

        Example::

            >>> qp = huntbook.QueryProvider("MSSentinel")
            >>> qp.connect(workspace="Prod")
            >>> qp.add_connection(workspace="Lab", alias="lab")   # queries run on both
        """
        self._core.connect(
            _connect_args(connection_str, kwargs), endpoint, credential, timeout
        )
        self._add_queries()

    def add_connection(
        self,
        connection_str: Optional[str] = None,
        alias: Optional[str] = None,
        *,
        credential: Any = None,
        endpoint: Optional[str] = None,
        timeout: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        """Add another connection (another workspace, cluster or server): every
        query then runs on each connection, at once, and their rows are joined.
        Takes what :meth:`connect` takes; ``alias`` names the connection (default:
        its number)."""
        name = alias or str(len(self._core.connections()))
        self._core.connect(
            _connect_args(connection_str, kwargs), endpoint, credential, timeout, name
        )

    @property
    def schema(self) -> Dict[str, Dict[str, str]]:
        """The tables of the (default) connection and their columns' types, as
        MSTICPy gives them: ``{"SigninLogs": {"TimeGenerated": "datetime", ...}}``. For
        LocalData, each data file; for Microsoft Sentinel, the workspace's tables.

        Example::

            >>> qp.schema["alerts.parquet"]["TimeGenerated"]
            'datetime'
        """
        return {table: dict(columns) for table, columns in self._core.schema()}

    @property
    def data_paths(self) -> List[str]:
        """The folders a local environment reads: those given, else the configured
        ``DataProviders.<environment>.data_paths``, else (LocalData) the current folder."""
        return [str(p) for p in self._core.data_paths()]

    def list_connections(self) -> List[str]:
        """The connections' aliases, the default first."""
        return self._core.connections()

    def list_queries(self, substring: Optional[str] = None) -> List[str]:
        """``Family.name`` of every query, or of those whose name, description or
        tags contain ``substring`` (ignoring case)."""
        return self._core.search(substring or "")

    def search(self, search: Optional[str] = None) -> List[str]:
        """The queries whose name, description or tags mention ``search``."""
        return self._core.search(search or "")

    def query_help(self, query_name: str) -> None:
        """Print a query's description, parameters (type, default, aliases) and text."""
        print(self._core.help(query_name))

    def browse_queries(self) -> pd.DataFrame:
        """Every query with its family, description and parameters, as a table."""
        return pd.DataFrame(
            self._core.catalogue(), columns=["family", "query", "description", "parameters"]
        )

    def exec_query(self, query: str, **kwargs: Any) -> pd.DataFrame:
        """Run a query written out in the environment's own terms (for LocalData, a
        data file's name).

        Example::

            >>> qp.exec_query("security_alert.parquet").shape
            (212, 24)
        """
        return to_frame(self._core.exec_query(query))

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | {k.split(".")[0] for k in self._families})

    def __repr__(self) -> str:
        return f"QueryProvider({self.environment!r}, {len(self._core.query_names())} queries)"


class QueryFamily:
    """The queries of one family, as attributes (``qp.SecurityAlert``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        names = [k for k, v in vars(self).items() if isinstance(v, (Query, QueryFamily))]
        return f"<query family {self._name}: {', '.join(sorted(names))}>"


class Query:
    """One query: call it with its parameters to get a DataFrame.

    ``query("help")`` prints its help; ``query(..., print=True)`` returns the query
    text it would run instead of running it; ``split_by="1D"`` runs the time range in
    one-day slices, four at a time, and joins the rows (``progress=callback(done,
    total)`` follows them). Times (``start``, ``end``) may be
    datetimes or MSTICPy's expressions: ``"-7d"``, ``"-3d@d"``, ``"now"``, ISO text."""

    def __init__(self, provider: QueryProvider, qualified: str) -> None:
        self._provider = provider
        self._qualified = qualified
        self.__doc__ = provider._core.help(qualified)

    def __call__(self, *args: Any, **kwargs: Any) -> Union[pd.DataFrame, str, None]:
        if args and args[0] in ("help", "?"):
            print(self.__doc__)
            return None
        show = bool(kwargs.pop("print", False))
        split_by = kwargs.pop("split_by", None)
        progress: Optional[Callable[[int, int], None]] = kwargs.pop("progress", None)
        values = [(name, _value(v)) for name, v in kwargs.items()]
        core = self._provider._core
        if show:
            return core.query_text(self._qualified, values)
        if split_by is not None:
            return to_frame(core.run_split(self._qualified, values, str(split_by), progress))
        return to_frame(core.run(self._qualified, values))

    def __repr__(self) -> str:
        return f"<query {self._qualified}>"


def _connect_args(connection_str: Optional[str], kwargs: Dict[str, Any]) -> List[tuple]:
    """connect()'s arguments as text, lists comma-joined."""
    args = [("connection_str", connection_str)] if connection_str else []
    for name, value in kwargs.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            value = ",".join(str(v) for v in value)
        args.append((name, str(value)))
    return args


def _value(value: Any) -> Any:
    """A parameter value in the form the Rust side reads: datetimes as UTC ISO text
    (naive ones are UTC), sequences as lists, the rest as they are."""
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset, pd.Series, pd.Index)) or (
        hasattr(value, "tolist") and not isinstance(value, (str, bytes))
    ):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return [_value(v) for v in items]
    return value



def write_sample_data(
    folder: PathLike, rows: int = 2000, *, seed: int = 1, anchor: Optional[str] = None
) -> pd.DataFrame:
    """Write the seeded sample SOC dataset (alerts, Windows processes with an attack
    chain, logons with a brute force, sign-ins with impossible travel, network flows
    with a beacon, Office 365, Linux syslog and auditd, OSQuery and Velociraptor logs)
    into ``folder``, covering the seven days before ``anchor`` (default: now).

    Example::

        >>> huntbook.write_sample_data("data")
        >>> qp = huntbook.QueryProvider("LocalData", data_paths=["data"])
        >>> qp.SecurityAlert.list_alerts(start="-7d", end="now")
    """
    written = _huntbook.write_sample_data(str(folder), rows, seed, anchor)
    return pd.DataFrame(written, columns=["path", "rows"])
