"""huntbook.QueryProvider on a remote environment: Microsoft Sentinel through the fake
Log Analytics query API of the Rust testkit (the `fake_query_services` example), which
checks tokens, paths and bodies as the service documents them and answers with its
JSON shapes."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

import huntbook
from conftest import StaticCredential, fake_service

service = fake_service("huntbook-data", "fake_query_services")

QUERIES = """\
metadata:
  version: 1
  description: Sign-ins, as the fake service knows them
  data_environments: [MSSentinel]
  data_families: [Identity]
sources:
  recent_signins:
    description: The latest sign-ins
    args:
      query: '
        SigninLogs
        | take {count}'
    parameters:
      count:
        description: How many
        type: int
        default: 5
"""


@pytest.fixture
def queries(tmp_path):
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "signins.yaml").write_text(QUERIES)
    return folder


def connected(service, queries, workspace: str) -> huntbook.QueryProvider:
    qp = huntbook.QueryProvider("AzureSentinel", query_paths=[queries])
    qp.connect(
        workspace_id=workspace,
        tenant_id=service["tenant_id"],
        endpoint=service["log_analytics"],
        credential=StaticCredential(service["token"]),
    )
    return qp


def test_templates_run_on_the_service_with_typed_columns(service, queries):
    qp = connected(service, queries, service["workspaces"][0])
    assert qp.connected and qp.environment == "MSSentinel"
    assert qp.Identity.recent_signins(print=True).split() == ["SigninLogs", "|", "take", "5"]
    frame = qp.Identity.recent_signins(count=3)
    assert len(frame) == 3
    assert str(frame["TimeGenerated"].dtype) == "datetime64[ns, UTC]"
    # Log Analytics' 100 ns ticks are kept
    assert frame["TimeGenerated"][0] == pd.Timestamp("2024-03-31T00:00:07.1234567Z")
    assert str(frame["ResultType"].dtype) == "int64"
    assert str(frame["IsInteractive"].dtype) == "bool"
    assert str(frame["RiskScore"].dtype) == "float64"
    # dynamic columns are Python objects, as MSTICPy returns them
    assert frame["LocationDetails"][0] == {"city": "Oslo", "countryOrRegion": "XX"}
    assert len(qp.exec_query("SigninLogs")) == service["rows_per_workspace"]
    assert qp.schema["SigninLogs"]["LocationDetails"] == "dynamic"


def test_several_workspaces_at_once(service, queries):
    first, second, _ = service["workspaces"]
    qp = connected(service, queries, first)
    qp.add_connection(
        workspace_id=second,
        tenant_id=service["tenant_id"],
        alias="lab",
        endpoint=service["log_analytics"],
        credential=StaticCredential(service["token"]),
    )
    assert qp.list_connections() == ["Default", "lab"]
    frame = qp.Identity.recent_signins(count=4)
    assert len(frame) == 8
    assert frame["TenantId"].nunique() == 2


def test_workspaces_and_app_sign_in_from_msticpyconfig(service, queries, tmp_path, monkeypatch):
    first, second, _ = service["workspaces"]
    config = tmp_path / "msticpyconfig.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            AzureSentinel:
              Workspaces:
                Default:
                  WorkspaceId: {first}
                  TenantId: {service['tenant_id']}
                Lab:
                  WorkspaceId: {second}
                  TenantId: {service['tenant_id']}
            """
        )
    )
    monkeypatch.setenv("MSTICPYCONFIG", str(config))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", service["authority"])
    monkeypatch.setenv("AZURE_TENANT_ID", service["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", service["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", service["client_secret"])
    qp = huntbook.QueryProvider("MSSentinel", query_paths=[queries])
    qp.connect(workspaces=["Default", "Lab"], endpoint=service["log_analytics"], credential="env")
    assert len(qp.exec_query("SigninLogs")) == 2 * service["rows_per_workspace"]
    with pytest.raises(ValueError, match="no such workspace; configured: Default, Lab"):
        qp.connect(workspace="Prod", endpoint=service["log_analytics"], credential="env")


def test_msticpy_connection_string(service, queries):
    qp = huntbook.QueryProvider("MSSentinel", query_paths=[queries])
    workspace = service["workspaces"][2]
    qp.connect(
        f"loganalytics://code().tenant('{service['tenant_id']}').workspace('{workspace}')",
        endpoint=service["log_analytics"],
        credential=StaticCredential(service["token"]),
    )
    assert len(qp.Identity.recent_signins()) == 5


def test_errors_say_what_to_do(service, queries):
    qp = huntbook.QueryProvider("MSSentinel", query_paths=[queries])
    assert not qp.connected
    with pytest.raises(ValueError, match=r"not connected; call connect\(\)"):
        qp.Identity.recent_signins()
    with pytest.raises(ValueError, match="does not take \"cluster\" for MSSentinel"):
        qp.connect(cluster="help")

    qp = connected(service, queries, service["workspaces"][0])
    with pytest.raises(ValueError, match=r"rejected the query at line 1, column \d+"):
        qp.exec_query("SigninLogs | summarize count()")

    qp.connect(
        workspace_id=service["workspaces"][0],
        tenant_id=service["tenant_id"],
        endpoint=service["log_analytics"],
        credential=StaticCredential("expired-token-123"),
    )
    with pytest.raises(ValueError) as raised:
        qp.exec_query("SigninLogs")
    assert "401" in str(raised.value)
    assert "expired-token-123" not in str(raised.value)
