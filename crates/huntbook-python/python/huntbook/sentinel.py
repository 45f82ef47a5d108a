"""Microsoft Sentinel's management API: incidents, comments, bookmarks and watchlists.

``MicrosoftSentinel`` keeps MSTICPy's method names and its DataFrame columns (the API
objects flattened with ``pandas.json_normalize``: ``id``, ``name``, ``etag``,
``properties.title``, ``properties.severity``...). The requests, paging, retries and
error handling happen in huntbook's Rust client.

Example::

    import huntbook
    sentinel = huntbook.MicrosoftSentinel()          # AzureSentinel.Workspaces.Default
    sentinel.connect()
    sentinel.list_incidents(filter="properties/status eq 'New'")
    incident = sentinel.create_incident(title="Beaconing from ws1", severity="Medium")
    sentinel.post_comment(incident["name"], "Looking into it.")
    sentinel.update_incident(incident["name"], status="Closed", classification="FalsePositive")
"""

from __future__ import annotations

import json
from datetime import datetime
from os import PathLike
from typing import Any, Mapping

import pandas as pd

from huntbook._huntbook import SentinelConflictError, SentinelError, SentinelNotFoundError, _SentinelClient

__all__ = ["MicrosoftSentinel", "SentinelConflictError", "SentinelError", "SentinelNotFoundError"]


def _frame(objects: list[dict]) -> pd.DataFrame:
    """API objects as MSTICPy's flattened DataFrame."""
    return pd.json_normalize(objects) if objects else pd.DataFrame()


def _to_json(value: Any) -> str:
    """JSON text of a dict, Series or DataFrame (as a list of rows)."""
    if isinstance(value, pd.DataFrame):
        return value.to_json(orient="records", date_format="iso")
    if isinstance(value, pd.Series):
        return value.to_json(date_format="iso")
    return json.dumps(value, default=str)


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class MicrosoftSentinel:
    """A Microsoft Sentinel workspace's incidents, bookmarks and watchlists.

    Args:
        workspace: the workspace's name under ``AzureSentinel.Workspaces`` in
            msticpyconfig.yaml / huntbook.yaml (``Default`` when omitted), or a dict of
            its settings (``SubscriptionId``, ``ResourceGroup``, ``WorkspaceName``,
            ``TenantId``).
        config: a configuration file to read instead of searching for one.
        base_url: Azure Resource Manager's address, for sovereign clouds (default
            ``https://management.azure.com/``).
        credential: how to sign in: ``"env"`` (an app's secret from
            ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``),
            ``"cli"`` (``az login``), ``"msi"`` (managed identity), or any object
            with ``get_token(*scopes)`` such as an ``azure.identity`` credential. By
            default ``"env"`` when ``AZURE_CLIENT_SECRET`` is set, else ``"cli"``.

    Example:
        >>> sentinel = huntbook.MicrosoftSentinel("Contoso", credential="cli")
        >>> sentinel.connect()
        >>> sentinel.list_incidents()[["name", "properties.title", "properties.severity"]]
    """

    def __init__(
        self,
        workspace: str | Mapping[str, str] | None = None,
        config: str | PathLike | None = None,
        *,
        base_url: str | None = None,
        credential: Any = None,
    ) -> None:
        self._workspace = workspace
        self._config = config
        self._base_url = base_url
        self._credential = credential
        self._client: _SentinelClient | None = None

    def connect(self, workspace: str | Mapping[str, str] | None = None, *, credential: Any = None) -> None:
        """Reads the workspace's settings and sets up sign-in (tokens are fetched on use).

        Raises ``ValueError`` naming the missing setting (``SubscriptionId``,
        ``ResourceGroup``, ``WorkspaceName``) or the unknown workspace.

        Example:
            >>> sentinel.connect()                       # the workspace given at creation
            >>> sentinel.connect("Contoso", credential=DefaultAzureCredential())
        """
        if workspace is not None:
            self._workspace = workspace
        if credential is not None:
            self._credential = credential
        name, settings = (None, dict(self._workspace)) if isinstance(self._workspace, Mapping) else (self._workspace, None)
        self._client = _SentinelClient(
            workspace=name,
            config=None if self._config is None else str(self._config),
            settings=settings,
            base_url=self._base_url,
            credential=self._credential,
        )

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def _api(self) -> _SentinelClient:
        if self._client is None:
            raise RuntimeError("not connected: call connect() first")
        return self._client

    # ----- incidents -----

    def list_incidents(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        filter: str | None = None,
        orderby: str | None = None,
        top: int | None = None,
    ) -> pd.DataFrame:
        """The workspace's incidents, one row each (all pages, up to ``top``).

        ``params`` takes MSTICPy's form (``{"$filter": ..., "$orderby": ..., "$top": 50}``);
        the keyword arguments win over it.

        Example:
            >>> sentinel.list_incidents(filter="properties/severity eq 'High'",
            ...                         orderby="properties/createdTimeUtc desc", top=20)
        """
        params = dict(params or {})
        filter = filter if filter is not None else params.get("$filter")
        orderby = orderby if orderby is not None else params.get("$orderby")
        top = top if top is not None else params.get("$top")
        return _frame(self._api.list_incidents(filter, orderby, None if top is None else int(top)))

    get_incidents = list_incidents

    def get_incident(
        self,
        incident: str,
        *,
        entities: bool = False,
        alerts: bool = False,
        comments: bool = False,
    ) -> pd.DataFrame:
        """One incident as a one-row DataFrame; ``entities``, ``alerts`` and
        ``comments`` add columns of that name holding lists.

        Example:
            >>> sentinel.get_incident("73e01a99-5cd7-4139-a149-9f2736ff2ab5", entities=True)
        """
        frame = _frame([self._api.get_incident(incident)])
        if entities:
            frame["Entities"] = [self.get_entities(incident)]
        if alerts:
            frame["Alerts"] = [self.get_incident_alerts(incident)]
        if comments:
            frame["Comments"] = [self.get_incident_comments(incident)]
        return frame

    def get_entities(self, incident: str) -> list[dict]:
        """The incident's entities, as alert ``Entities`` JSON (``Type``, ``HostName``...)."""
        return self._api.incident_entities(incident)

    def get_incident_alerts(self, incident: str) -> list[dict]:
        """The incident's alerts as the API returns them (``kind: SecurityAlert``)."""
        return self._api.incident_alerts(incident)

    def get_incident_comments(self, incident: str) -> list[dict]:
        return self._api.list_comments(incident)

    def create_incident(
        self,
        title: str,
        severity: str,
        status: str = "New",
        description: str | None = None,
        first_activity_time: datetime | str | None = None,
        last_activity_time: datetime | str | None = None,
        labels: list[str] | None = None,
    ) -> dict:
        """Creates an incident and returns it as saved (``name`` is its id).

        ``severity`` is ``High``, ``Medium``, ``Low`` or ``Informational`` and
        ``status`` ``New``, ``Active`` or ``Closed``, in any case.

        Example:
            >>> inc = sentinel.create_incident(title="Beaconing from ws1", severity="medium",
            ...                                labels=["huntbook"])
            >>> inc["name"], inc["properties"]["incidentNumber"]
        """
        return self._api.create_incident(
            title,
            severity,
            status,
            description,
            list(labels or []),
            _iso(first_activity_time),
            _iso(last_activity_time),
        )

    def update_incident(self, incident_id: str, update_items: Mapping[str, Any] | None = None, **changes: Any) -> dict:
        """Changes an incident's properties (API names: ``status``, ``severity``,
        ``classification``, ``owner``, ``labels``...) and returns it as saved.

        The incident is read and written back with its etag: if someone changed it
        in between, ``huntbook.SentinelConflictError`` is raised and nothing changes.

        Example:
            >>> sentinel.update_incident(inc_id, status="Closed", classification="FalsePositive",
            ...                          classificationReason="IncorrectAlertLogic")
        """
        items = {**(update_items or {}), **changes}
        return self._api.update_incident(incident_id, _to_json(items))

    def post_comment(self, incident_id: str, comment: str) -> dict:
        """Adds a comment to an incident and returns it.

        Example:
            >>> sentinel.post_comment(inc_id, "Host isolated.")["properties"]["message"]
        """
        return self._api.post_comment(incident_id, comment)

    # ----- bookmarks -----

    def list_bookmarks(self) -> pd.DataFrame:
        """The workspace's hunting bookmarks, one row each."""
        return _frame(self._api.list_bookmarks())

    def create_bookmark(
        self,
        name: str,
        query: str,
        results: str | None = None,
        notes: str | None = None,
        labels: list[str] | None = None,
    ) -> dict:
        """Creates a bookmark of a query (and its results) and returns it.

        Example:
            >>> sentinel.create_bookmark("Rare parent", "SecurityEvent | where EventID == 4688",
            ...                          notes="three hosts", labels=["hunt-42"])
        """
        return self._api.create_bookmark(name, query, results, notes, list(labels or []))

    def delete_bookmark(self, bookmark_id: str) -> None:
        self._api.delete_bookmark(bookmark_id)

    # ----- watchlists -----

    def list_watchlists(self) -> pd.DataFrame:
        """The workspace's watchlists, one row each."""
        return _frame(self._api.list_watchlists())

    def create_watchlist(
        self,
        watchlist_name: str,
        description: str,
        search_key: str,
        provider: str = "huntbook",
        source: str = "Notebook",
        data: pd.DataFrame | None = None,
    ) -> dict:
        """Creates a watchlist (alias ``watchlist_name``), with ``data``'s rows as its items.

        Example:
            >>> hosts = pd.DataFrame({"Hostname": ["ws1", "dc1"], "Owner": ["alice", "it"]})
            >>> sentinel.create_watchlist("hva", "High value assets", "Hostname", data=hosts)
        """
        csv = data.to_csv(index=False) if isinstance(data, pd.DataFrame) and not data.empty else None
        return self._api.create_watchlist(watchlist_name, description, search_key, provider, source, csv)

    def delete_watchlist(self, watchlist_name: str) -> None:
        self._api.delete_watchlist(watchlist_name)

    def list_watchlist_items(self, watchlist_name: str) -> pd.DataFrame:
        """The items of a watchlist, one row each (``properties.itemsKeyValue.<column>``)."""
        return _frame(self._api.list_watchlist_items(watchlist_name))

    def add_watchlist_item(
        self,
        watchlist_name: str,
        item: Mapping[str, Any] | pd.Series | pd.DataFrame,
        *,
        overwrite: bool = False,
    ) -> list[dict]:
        """Adds an item (dict or Series) or items (DataFrame rows) to a watchlist.

        An item equal to one already there raises ``ValueError``, unless
        ``overwrite=True``, which replaces it.

        Example:
            >>> sentinel.add_watchlist_item("hva", {"Hostname": "fs1", "Owner": "it"})
        """
        rows = item if isinstance(item, pd.DataFrame) else [item]
        text = _to_json(rows) if isinstance(rows, pd.DataFrame) else "[" + ",".join(_to_json(r) for r in rows) + "]"
        return self._api.add_watchlist_items(watchlist_name, text, overwrite)
