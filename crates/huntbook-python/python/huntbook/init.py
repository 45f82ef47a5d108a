"""Starting a hunting notebook: :func:`init_notebook` checks the configuration and says
what is ready (query environments, threat-intel providers, credentials) and what is
missing, with what to do about it.

Example::

    import huntbook
    status = huntbook.init_notebook()     # shows a short report
    status.ready                           # False when the configuration has errors
"""

from __future__ import annotations

import html
import os
from typing import Any, Dict, List, Optional, Tuple, Union

from huntbook import _huntbook

__all__ = ["init_notebook", "NotebookStatus"]

PathLike = Union[str, "os.PathLike[str]"]


class NotebookStatus:
    """What :func:`init_notebook` found. Shows itself as a report in a notebook.

    Attributes:
        files: the configuration files looked for, and whether each was used.
        problems: ``(severity, key, message, where)`` for every problem.
        credentials: ``(key, where it is kept, status)``; values are never read out.
        environments: ``(name, ready, detail)`` for each query environment.
        ti_providers: one dict per configured TI provider (``Provider``, ``Loaded``,
            ``Detail``...), as ``TILookup.provider_status``.
        accessors: the pandas accessors huntbook registered.
    """

    def __init__(self, check: Dict[str, Any], ti_providers: List[Dict[str, Any]]) -> None:
        self.files: List[str] = list(check["files"])
        self.problems: List[Tuple[str, str, str, str]] = [tuple(p) for p in check["problems"]]
        self.credentials: List[Tuple[str, str, str]] = [tuple(s) for s in check["secrets"]]
        workspaces = list(check["workspaces"])
        self.environments: List[Tuple[str, bool, str]] = [
            ("LocalData", True, "CSV, JSON lines and Parquet files; huntbook.write_sample_data(folder) writes a sample"),
            (
                "MSSentinel",
                bool(workspaces),
                f"workspaces: {', '.join(workspaces)}" if workspaces
                else "no workspace: add AzureSentinel.Workspaces (WorkspaceId, TenantId) to msticpyconfig.yaml or huntbook.yaml",
            ),
        ]
        self.ti_providers = ti_providers
        self.accessors = ["df.hb (charts)", "df.hb_tree (process trees)"]

    @property
    def ready(self) -> bool:
        """No errors in the configuration (warnings allowed)."""
        return not any(p[0] == "error" for p in self.problems)

    def _rows(self) -> List[Tuple[str, str, str]]:
        rows = [("environment", name, ("ready: " if ok else "not ready: ") + detail) for name, ok, detail in self.environments]
        for p in self.ti_providers:
            state = "ready" if p.get("Loaded") else f"not loaded: {p.get('Detail') or 'see its settings'}"
            rows.append(("TI provider", str(p.get("Provider")), state))
        if not self.ti_providers:
            rows.append(("TI provider", "(none)", "add providers under TIProviders (huntbook config init writes an example)"))
        rows += [("credential", key, f"{status} ({where})") for key, where, status in self.credentials]
        rows += [(severity, key, f"{message}" + (f" ({where})" if where else "")) for severity, key, message, where in self.problems]
        return rows

    def __str__(self) -> str:
        lines = ["huntbook: " + ("configuration OK" if self.ready else "the configuration has errors")]
        lines += [f"  {kind:<12} {name:<24} {detail}" for kind, name, detail in self._rows()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "configuration OK" if self.ready else "the configuration has errors: fix the rows marked error"
        body = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(n)}</td><td>{html.escape(d)}</td></tr>" for k, n, d in self._rows()
        )
        files = "".join(f"<li>{html.escape(f)}</li>" for f in self.files)
        return (
            f"<div class='hb-init'><b>huntbook</b>: {html.escape(head)}"
            f"<table><tr><th>what</th><th>name</th><th>status</th></tr>{body}</table>"
            f"<details><summary>configuration files</summary><ul>{files}</ul></details></div>"
        )


def init_notebook(
    *, config: Optional[PathLike] = None, msticpy: Optional[PathLike] = None, verbose: bool = True
) -> NotebookStatus:
    """Check the configuration, load the TI providers it names, and report what is
    ready. pandas accessors (``df.hb``, ``df.hb_tree``) are registered by ``import
    huntbook``; this lists them.

    Args:
        config: a huntbook.yaml to use instead of the search
            ($HUNTBOOK_CONFIG, ./huntbook.yaml, ~/.config/huntbook/huntbook.yaml).
        msticpy: a msticpyconfig.yaml to use instead of the search.
        verbose: show the report (in a notebook, as a table).

    Example::

        >>> status = huntbook.init_notebook()
        >>> [name for name, ok, _ in status.environments if ok]
        ['LocalData']
    """
    from huntbook.ti import TILookup

    check = _huntbook.config_check(
        None if config is None else os.fspath(config), None if msticpy is None else os.fspath(msticpy)
    )
    ti = TILookup(config=config, msticpy=msticpy)
    status = NotebookStatus(check, ti.provider_status)
    if verbose:
        try:
            from IPython.display import display

            display(status)
        except ImportError:
            print(status)
    return status
