//! The Azure Resource Manager address of a workspace's Sentinel resources, and the
//! checks on every name that becomes part of a URL path.
//!
//! Names are checked against Azure's own rules before any request is made, so that an
//! id read from a notebook parameter cannot reach another path of the API (`..`,
//! `/`, `?`) and a typo is reported as a typo rather than as a puzzling 404.

use huntbook_core::config::Workspace;

use crate::SentinelError;

/// Subscription, resource group and workspace name: where the workspace lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePath {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace_name: String,
}

impl WorkspacePath {
    /// Checks each part against Azure's naming rules.
    pub fn new(
        subscription_id: &str,
        resource_group: &str,
        workspace_name: &str,
    ) -> Result<WorkspacePath, SentinelError> {
        check_subscription(subscription_id)?;
        check_resource_group(resource_group)?;
        check_workspace_name(workspace_name)?;
        Ok(WorkspacePath {
            subscription_id: subscription_id.to_string(),
            resource_group: resource_group.to_string(),
            workspace_name: workspace_name.to_string(),
        })
    }

    /// From a configured workspace (`AzureSentinel.Workspaces.<name>`), which must
    /// have `SubscriptionId`, `ResourceGroup` and `WorkspaceName`: the query API only
    /// needs `WorkspaceId`, so MSTICPy configs often lack them.
    pub fn from_config(workspace: &Workspace) -> Result<WorkspacePath, SentinelError> {
        fn need<'w>(
            workspace: &'w Workspace,
            value: &'w Option<String>,
            setting: &'static str,
        ) -> Result<&'w str, SentinelError> {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| SentinelError::MissingSetting {
                    workspace: workspace.name.clone(),
                    setting,
                })
        }
        WorkspacePath::new(
            need(workspace, &workspace.subscription_id, "SubscriptionId")?,
            need(workspace, &workspace.resource_group, "ResourceGroup")?,
            need(workspace, &workspace.workspace_name, "WorkspaceName")?,
        )
    }

    /// The path segments of the Sentinel provider under this workspace.
    pub(crate) fn segments(&self) -> [&str; 10] {
        [
            "subscriptions",
            &self.subscription_id,
            "resourceGroups",
            &self.resource_group,
            "providers",
            "Microsoft.OperationalInsights",
            "workspaces",
            &self.workspace_name,
            "providers",
            "Microsoft.SecurityInsights",
        ]
    }
}

fn bad(what: &'static str, value: &str, rule: &'static str) -> SentinelError {
    SentinelError::Invalid {
        what,
        value: value.to_string(),
        rule,
    }
}

fn check_subscription(id: &str) -> Result<(), SentinelError> {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "subscription id",
            id,
            "a GUID such as 3b701f84-d04b-4479-89b1-fa8827eb537e",
        ))
    }
}

/// Azure's rule: 1-90 letters, digits, `_`, `-`, `.` and `()`, not ending in `.`.
fn check_resource_group(name: &str) -> Result<(), SentinelError> {
    let ok = (1..=90).contains(&name.len())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "resource group",
            name,
            "1-90 letters, digits, '_', '-', '.' and parentheses, not ending in '.'",
        ))
    }
}

/// The pattern the API documents: `^[A-Za-z0-9][A-Za-z0-9-]+[A-Za-z0-9]$`, 4-63 long.
fn check_workspace_name(name: &str) -> Result<(), SentinelError> {
    let ok = (4..=63).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(bad(
            "workspace name",
            name,
            "4-63 letters, digits and '-', starting and ending with a letter or digit",
        ))
    }
}

/// An object id (incident, comment, bookmark, watchlist alias, watchlist item): 1-256
/// letters, digits, `-`, `_` and `.`, and not made of dots only, so it stays one path
/// segment.
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<(), SentinelError> {
    let ok = (1..=256).contains(&id.len())
        && !id.chars().all(|c| c == '.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(bad(
            what,
            id,
            "1-256 letters, digits, '-', '_' and '.' (such as a GUID)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "3b701f84-d04b-4479-89b1-fa8827eb537e";

    #[test]
    fn azure_names_are_checked() {
        assert!(WorkspacePath::new(SUB, "soc_rg.(prod)", "contoso-sentinel").is_ok());
        for (sub, rg, ws) in [
            ("not-a-guid", "rg", "ws01"),
            (SUB, "rg.", "ws01"),
            (SUB, "a/b", "ws01"),
            (SUB, "", "ws01"),
            (SUB, "rg", "-ws1"),
            (SUB, "rg", "ws"),
            (SUB, "rg", "ws 1"),
        ] {
            assert!(
                WorkspacePath::new(sub, rg, ws).is_err(),
                "{sub} {rg} {ws} accepted"
            );
        }
    }

    #[test]
    fn ids_cannot_leave_their_path_segment() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../watchlists",
            "a?api-version=1",
            "a%2Fb",
            "a b",
        ] {
            assert!(check_id("incident id", bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_id("incident id", "73e01a99-5cd7-4139-a149-9f2736ff2ab5").is_ok());
        assert!(check_id("watchlist alias", "high_value.assets-2").is_ok());
    }

    #[test]
    fn missing_settings_are_named() {
        let workspace = Workspace {
            name: "Default".into(),
            workspace_id: "52b1ab41-869e-4138-9e40-2a4457f09bf0".into(),
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            subscription_id: Some(SUB.into()),
            resource_group: None,
            workspace_name: Some("contoso-sentinel".into()),
        };
        let e = WorkspacePath::from_config(&workspace).unwrap_err();
        assert_eq!(
            e.to_string(),
            "AzureSentinel.Workspaces.Default: ResourceGroup is missing; the management API needs SubscriptionId, ResourceGroup and WorkspaceName"
        );
    }
}
