//! Typed views of the sections MSTICPy defines, and of huntbook's `HashiCorpVault`.
//!
//! Each reader collects every problem it finds, so [`Config::check`] can report them
//! all; the accessors return the first.

use super::credentials;
use super::value::{Kind, Value};
use super::{Config, Problem};
use crate::secret::SecretRef;

/// A Microsoft Sentinel workspace, `AzureSentinel.Workspaces.<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub name: String,
    pub workspace_id: String,
    pub tenant_id: String,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub workspace_name: Option<String>,
}

/// One entry of a provider section (`TIProviders`, `OtherProviders`,
/// `DataProviders`, `ContextProviders`).
#[derive(Clone, PartialEq)]
pub struct ProviderSettings {
    pub section: String,
    pub name: String,
    /// `Provider:`, else the entry's name, as MSTICPy defaults it.
    pub provider: String,
    pub primary: bool,
    pub description: Option<String>,
    /// `Args:` as written; read credentials with
    /// [`Config::secret`]`(&settings.arg_path(name))`.
    pub args: Vec<(String, Value)>,
}

/// Arguments that hold credentials print as `[secret]`.
impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|(k, v)| {
                match credentials::is_credential_key(k) || credentials::reference_form(v).is_some()
                {
                    true => format!("{k}: [secret]"),
                    false => format!("{k}: {:?}", v.kind),
                }
            })
            .collect();
        f.debug_struct("ProviderSettings")
            .field("section", &self.section)
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("primary", &self.primary)
            .field("description", &self.description)
            .field("args", &args)
            .finish()
    }
}

impl ProviderSettings {
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The dotted path of an argument, e.g. `TIProviders.OTX.Args.AuthKey`.
    pub fn arg_path(&self, name: &str) -> String {
        format!("{}.{}.Args.{name}", self.section, self.name)
    }
}

/// The `KeyVault` section: the default vault for `{KeyVault: ...}` credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultSettings {
    pub tenant_id: String,
    pub vault_name: Option<String>,
    /// The Azure cloud: `global` (default), `usgov`, `de` or `cn`.
    pub authority: String,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub azure_region: Option<String>,
    pub use_keyring: bool,
}

/// huntbook's `HashiCorpVault` section: the server behind `{HashiCorpVault: ...}`
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashiCorpVaultSettings {
    /// `http(s)://host:port`, without `/v1`.
    pub url: String,
    /// `Token:` (any credential form); `{EnvironmentVar: VAULT_TOKEN}` when absent,
    /// the variable the Vault CLI reads.
    pub token: SecretRef,
    /// `Namespace:` (Vault Enterprise), sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// The KV version 2 mount for references that name none; `secret` by default.
    pub mount: String,
}

const AUTHORITIES: [&str; 4] = ["global", "usgov", "de", "cn"];

/// Providers whose `Args.AuthKey` MSTICPy's `validate_config` requires.
const AUTH_KEY_PROVIDERS: [&str; 8] = [
    "OTX",
    "VirusTotal",
    "XForce",
    "OpenPageRank",
    "GeoIPLite",
    "IPStack",
    "RiskIQ",
    "IntSights",
];

impl Config {
    /// All Sentinel workspaces, `Default` included.
    pub fn workspaces(&self) -> Result<Vec<Workspace>, Problem> {
        first_problem(|problems| read_workspaces(self, problems))
    }

    /// The workspace called `name`, or `Default` when `name` is `None`.
    pub fn workspace(&self, name: Option<&str>) -> Result<Workspace, Problem> {
        let name = name.unwrap_or("Default");
        let workspaces = self.workspaces()?;
        let known: Vec<&str> = workspaces.iter().map(|w| w.name.as_str()).collect();
        let message = if known.is_empty() {
            "no workspaces are configured; add one under AzureSentinel.Workspaces".to_string()
        } else {
            format!("no such workspace; configured: {}", known.join(", "))
        };
        let origin = self
            .get("AzureSentinel.Workspaces")
            .map(|v| v.origin.clone())
            .unwrap_or(super::Origin::Default);
        workspaces
            .into_iter()
            .find(|w| w.name == name)
            .ok_or_else(|| {
                Problem::error(format!("AzureSentinel.Workspaces.{name}"), &origin, message)
            })
    }

    /// The entries of a provider section, in file order.
    pub fn providers(&self, section: &str) -> Result<Vec<ProviderSettings>, Problem> {
        first_problem(|problems| read_providers(self, section, problems))
    }

    pub fn key_vault(&self) -> Result<Option<KeyVaultSettings>, Problem> {
        first_problem(|problems| read_key_vault(self, problems))
    }

    pub fn hashicorp_vault(&self) -> Result<Option<HashiCorpVaultSettings>, Problem> {
        first_problem(|problems| read_hashicorp_vault(self, problems))
    }
}

fn first_problem<T>(read: impl FnOnce(&mut Vec<Problem>) -> T) -> Result<T, Problem> {
    let mut problems = Vec::new();
    let value = read(&mut problems);
    match problems
        .into_iter()
        .find(|p| p.severity == super::Severity::Error)
    {
        Some(problem) => Err(problem),
        None => Ok(value),
    }
}

/// Reads fields of one mapping at `path`, recording problems as it goes.
struct Fields<'a> {
    path: String,
    value: &'a Value,
    problems: &'a mut Vec<Problem>,
}

impl Fields<'_> {
    fn key(&self, field: &str) -> String {
        format!("{}.{field}", self.path)
    }

    fn text(&mut self, field: &str, required: bool) -> Option<String> {
        let key = self.key(field);
        match self.value.get(field) {
            Some(v) if !v.is_null() => match v.scalar_text() {
                Some(text) => Some(text),
                None => {
                    self.problems.push(Problem::error(
                        key,
                        &v.origin,
                        format!("must be text, not {}", v.type_name()),
                    ));
                    None
                }
            },
            _ => {
                if required {
                    self.problems.push(Problem::error(
                        key,
                        &self.value.origin,
                        format!("{field} is missing"),
                    ));
                }
                None
            }
        }
    }

    fn guid(&mut self, field: &str, required: bool) -> Option<String> {
        let text = self.text(field, required)?;
        if is_guid(&text) {
            return Some(text);
        }
        let origin = self
            .value
            .get(field)
            .map_or(&self.value.origin, |v| &v.origin)
            .clone();
        self.problems.push(Problem::error(
            self.key(field),
            &origin,
            format!("`{text}` is not a GUID (expected 8-4-4-4-12 hex digits, e.g. 00000000-0000-0000-0000-000000000000)"),
        ));
        None
    }

    fn boolean(&mut self, field: &str, default: bool) -> bool {
        match self.value.get(field) {
            None => default,
            Some(v) if v.is_null() => default,
            Some(v) => v.as_bool().unwrap_or_else(|| {
                self.problems.push(Problem::error(
                    self.key(field),
                    &v.origin,
                    format!("must be True or False, not {}", v.type_name()),
                ));
                default
            }),
        }
    }
}

/// A mapping section, or a problem if it is something else. Null is an empty section.
fn mapping<'a>(
    key: &str,
    value: &'a Value,
    problems: &mut Vec<Problem>,
) -> Option<&'a [(String, Value)]> {
    match &value.kind {
        Kind::Map(entries) => Some(entries),
        Kind::Null => Some(&[]),
        _ => {
            problems.push(Problem::error(
                key,
                &value.origin,
                format!("must be a mapping, not {}", value.type_name()),
            ));
            None
        }
    }
}

pub(crate) fn is_guid(text: &str) -> bool {
    let text = text.trim_start_matches('{').trim_end_matches('}');
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn read_workspaces(config: &Config, problems: &mut Vec<Problem>) -> Vec<Workspace> {
    let Some(section) = config.get("AzureSentinel.Workspaces") else {
        return Vec::new();
    };
    let Some(entries) = mapping("AzureSentinel.Workspaces", section, problems) else {
        return Vec::new();
    };
    if !entries.is_empty() && !entries.iter().any(|(name, _)| name == "Default") {
        problems.push(Problem::warning(
            "AzureSentinel.Workspaces",
            &section.origin,
            "no Default workspace; queries that name no workspace will fail",
        ));
    }
    let mut workspaces = Vec::new();
    for (name, value) in entries {
        let path = format!("AzureSentinel.Workspaces.{name}");
        if mapping(&path, value, problems).is_none() {
            continue;
        }
        let mut fields = Fields {
            path,
            value,
            problems,
        };
        let workspace_id = fields.guid("WorkspaceId", true);
        let tenant_id = fields.guid("TenantId", true);
        let subscription_id = fields.guid("SubscriptionId", false);
        let resource_group = fields.text("ResourceGroup", false);
        let workspace_name = fields.text("WorkspaceName", false);
        if let (Some(workspace_id), Some(tenant_id)) = (workspace_id, tenant_id) {
            workspaces.push(Workspace {
                name: name.clone(),
                workspace_id,
                tenant_id,
                subscription_id,
                resource_group,
                workspace_name,
            });
        }
    }
    workspaces
}

pub(crate) fn read_providers(
    config: &Config,
    section: &str,
    problems: &mut Vec<Problem>,
) -> Vec<ProviderSettings> {
    let Some(entries) = config
        .get(section)
        .and_then(|v| mapping(section, v, problems))
    else {
        return Vec::new();
    };
    let mut providers = Vec::new();
    for (name, value) in entries {
        let path = format!("{section}.{name}");
        if value.is_null() {
            problems.push(Problem::warning(&path, &value.origin, "has no settings"));
            continue;
        }
        if mapping(&path, value, problems).is_none() {
            continue;
        }
        let args_value = value.get("Args");
        let args = match args_value {
            Some(args) => mapping(&format!("{path}.Args"), args, problems)
                .unwrap_or_default()
                .to_vec(),
            None => Vec::new(),
        };
        let mut fields = Fields {
            path: path.clone(),
            value,
            problems,
        };
        let provider = fields
            .text("Provider", false)
            .unwrap_or_else(|| name.clone());
        let primary = fields.boolean("Primary", false);
        let description = fields.text("Description", false);
        if let Some(args_value) = args_value.filter(|a| matches!(a.kind, Kind::Map(_))) {
            let mut args_fields = Fields {
                path: format!("{path}.Args"),
                value: args_value,
                problems,
            };
            check_required_args(section, name, &mut args_fields);
        } else if AUTH_KEY_PROVIDERS.contains(&name.as_str()) {
            problems.push(Problem::error(
                format!("{path}.Args.AuthKey"),
                &value.origin,
                "AuthKey is missing",
            ));
        }
        providers.push(ProviderSettings {
            section: section.to_string(),
            name: name.clone(),
            provider,
            primary,
            description,
            args,
        });
    }
    providers
}

/// The per-provider rules of MSTICPy's `validate_config`.
fn check_required_args(section: &str, name: &str, args: &mut Fields) {
    let present = |args: &Fields, field: &str| args.value.get(field).is_some_and(|v| !v.is_null());
    let require = |args: &mut Fields, field: &str| {
        if !present(args, field) {
            let key = args.key(field);
            args.problems.push(Problem::error(
                key,
                &args.value.origin,
                format!("{field} is missing"),
            ));
        }
    };
    if AUTH_KEY_PROVIDERS.contains(&name) {
        require(args, "AuthKey");
    }
    if matches!(name, "XForce" | "RiskIQ") {
        require(args, "ApiID");
    }
    match (section, name) {
        ("TIProviders", "AzureSentinel") => {
            args.guid("WorkspaceID", true);
            args.guid("TenantID", true);
        }
        ("DataProviders", "MicrosoftDefender" | "MicrosoftGraph") => {
            args.guid("ClientId", true);
            args.guid("TenantId", true);
        }
        // Optional as a whole, but a client id without the rest cannot sign in.
        ("DataProviders", "AzureCLI") if present(args, "clientId") => {
            args.guid("clientId", true);
            args.guid("tenantId", true);
            require(args, "clientSecret");
        }
        _ => {}
    }
}

pub(crate) fn read_key_vault(
    config: &Config,
    problems: &mut Vec<Problem>,
) -> Option<KeyVaultSettings> {
    let value = config.get("KeyVault")?;
    mapping("KeyVault", value, problems)?;
    let mut fields = Fields {
        path: "KeyVault".into(),
        value,
        problems,
    };
    let tenant_id = fields.guid("TenantId", true);
    let vault_name = fields.text("VaultName", false);
    if let Some(name) = &vault_name {
        if let Err(message) = credentials::check_vault_name(name) {
            let origin = value
                .get("VaultName")
                .map_or(&value.origin, |v| &v.origin)
                .clone();
            fields
                .problems
                .push(Problem::error("KeyVault.VaultName", &origin, message));
        }
    }
    let authority = fields
        .text("Authority", false)
        .unwrap_or_else(|| "global".into());
    if !AUTHORITIES.contains(&authority.to_ascii_lowercase().as_str()) {
        let origin = value
            .get("Authority")
            .map_or(&value.origin, |v| &v.origin)
            .clone();
        fields.problems.push(Problem::error(
            "KeyVault.Authority",
            &origin,
            format!(
                "unknown cloud `{authority}`; use one of {}",
                AUTHORITIES.join(", ")
            ),
        ));
    }
    let settings = KeyVaultSettings {
        tenant_id: tenant_id?,
        vault_name,
        authority: authority.to_ascii_lowercase(),
        subscription_id: fields.guid("SubscriptionId", false),
        resource_group: fields.text("ResourceGroup", false),
        azure_region: fields.text("AzureRegion", false),
        use_keyring: fields.boolean("UseKeyring", false),
    };
    Some(settings)
}

pub(crate) fn read_hashicorp_vault(
    config: &Config,
    problems: &mut Vec<Problem>,
) -> Option<HashiCorpVaultSettings> {
    let value = config.get("HashiCorpVault")?;
    mapping("HashiCorpVault", value, problems)?;
    let mut fields = Fields {
        path: "HashiCorpVault".into(),
        value,
        problems,
    };
    let url = fields.text("Url", true);
    let namespace = fields.text("Namespace", false);
    let mount = fields
        .text("Mount", false)
        .unwrap_or_else(|| "secret".into());
    if let Err(message) = credentials::check_vault_path("Mount", &mount) {
        let origin = value
            .get("Mount")
            .map_or(&value.origin, |v| &v.origin)
            .clone();
        problems.push(Problem::error("HashiCorpVault.Mount", &origin, message));
    }
    let url = url.filter(|url| {
        let ok = url.starts_with("https://") || url.starts_with("http://");
        if !ok {
            let origin = value
                .get("Url")
                .map_or(&value.origin, |v| &v.origin)
                .clone();
            problems.push(Problem::error(
                "HashiCorpVault.Url",
                &origin,
                format!("`{url}` is not an http:// or https:// URL"),
            ));
        }
        ok
    })?;
    let token = match config.secret("HashiCorpVault.Token") {
        Ok(Some(token)) => token,
        Ok(None) => SecretRef::EnvironmentVar {
            name: "VAULT_TOKEN".into(),
        },
        Err(problem) => {
            problems.push(problem);
            return None;
        }
    };
    Some(HashiCorpVaultSettings {
        url: url.trim_end_matches('/').to_string(),
        token,
        namespace,
        mount,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const WS: &str = "c1e9ab1f-5a3e-4a7b-9a1d-0d2d7e3b6f10";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn config(yaml: &str) -> Config {
        Config::from_yaml(&[(Path::new("/cfg/huntbook.yaml"), yaml)]).unwrap()
    }

    #[test]
    fn workspaces_are_read_with_their_ids() {
        let c = config(&format!(
            "AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: {WS}\n      TenantId: {TENANT}\n      WorkspaceName: soc\n    Other:\n      WorkspaceId: {WS}\n      TenantId: {TENANT}\n"
        ));
        let default = c.workspace(None).unwrap();
        assert_eq!(default.workspace_id, WS);
        assert_eq!(default.tenant_id, TENANT);
        assert_eq!(default.workspace_name.as_deref(), Some("soc"));
        assert_eq!(c.workspace(Some("Other")).unwrap().name, "Other");
        let err = c.workspace(Some("Missing")).unwrap_err();
        assert_eq!(err.key, "AzureSentinel.Workspaces.Missing");
        assert!(err.message.contains("configured: Default, Other"), "{err}");
    }

    #[test]
    fn a_workspace_without_ids_is_a_problem_at_its_line() {
        let c =
            config("AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: not-a-guid\n");
        let mut problems = Vec::new();
        assert!(read_workspaces(&c, &mut problems).is_empty());
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                "AzureSentinel.Workspaces.Default.WorkspaceId (/cfg/huntbook.yaml:4): `not-a-guid` is not a GUID (expected 8-4-4-4-12 hex digits, e.g. 00000000-0000-0000-0000-000000000000)",
                "AzureSentinel.Workspaces.Default.TenantId (/cfg/huntbook.yaml:3): TenantId is missing",
            ]
        );
        assert!(c.workspaces().is_err());
    }

    #[test]
    fn providers_default_their_provider_name_and_primary() {
        let c = config("TIProviders:\n  OTX:\n    Args:\n      AuthKey: {EnvironmentVar: OTX}\n    Primary: True\n  Tor:\n    Provider: Tor\n");
        let providers = c.providers("TIProviders").unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(
            (providers[0].provider.as_str(), providers[0].primary),
            ("OTX", true)
        );
        assert_eq!(
            (providers[1].provider.as_str(), providers[1].primary),
            ("Tor", false)
        );
        assert_eq!(
            providers[0].arg_path("AuthKey"),
            "TIProviders.OTX.Args.AuthKey"
        );
        assert!(providers[0].arg("AuthKey").is_some());
        assert!(c.providers("OtherProviders").unwrap().is_empty());
    }

    #[test]
    fn debug_output_hides_literal_credentials() {
        let c = config(
            "TIProviders:\n  OTX:\n    Args:\n      AuthKey: hunter2-literal\n      Region: eu\n",
        );
        let otx = &c.providers("TIProviders").unwrap()[0];
        let shown = format!("{otx:?} {c:?}");
        assert!(!shown.contains("hunter2-literal"), "{shown}");
        assert!(
            shown.contains("AuthKey: [secret]") && shown.contains("Region"),
            "{shown}"
        );
    }

    #[test]
    fn provider_rules_follow_msticpy() {
        let c = config(
            "TIProviders:\n  VirusTotal:\n    Primary: maybe\n  XForce:\n    Args:\n      AuthKey: {EnvironmentVar: XF}\n  AzureSentinel:\n    Args:\n      WorkspaceID: x\nDataProviders:\n  AzureCLI:\n    Args:\n      clientId: 00000000-0000-0000-0000-000000000000\n",
        );
        let mut problems = Vec::new();
        read_providers(&c, "TIProviders", &mut problems);
        read_providers(&c, "DataProviders", &mut problems);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "TIProviders.VirusTotal.Primary",
                "TIProviders.VirusTotal.Args.AuthKey",
                "TIProviders.XForce.Args.ApiID",
                "TIProviders.AzureSentinel.Args.WorkspaceID",
                "TIProviders.AzureSentinel.Args.TenantID",
                "DataProviders.AzureCLI.Args.tenantId",
                "DataProviders.AzureCLI.Args.clientSecret",
            ]
        );
    }

    #[test]
    fn key_vault_settings() {
        let c = config(&format!(
            "KeyVault:\n  TenantId: {TENANT}\n  VaultName: soc-kv\n  Authority: USGov\n"
        ));
        let kv = c.key_vault().unwrap().unwrap();
        assert_eq!(kv.vault_name.as_deref(), Some("soc-kv"));
        assert_eq!(kv.authority, "usgov");
        assert!(config("A: 1\n").key_vault().unwrap().is_none());
        let bad = config(
            "KeyVault:\n  TenantId: nope\n  VaultName: 'evil.example.com/'\n  Authority: mars\n",
        );
        let mut problems = Vec::new();
        read_key_vault(&bad, &mut problems);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "KeyVault.TenantId",
                "KeyVault.VaultName",
                "KeyVault.Authority"
            ]
        );
    }

    #[test]
    fn hashicorp_vault_settings() {
        let c = config("HashiCorpVault:\n  Url: https://vault.internal:8200/\n  Namespace: soc\n");
        let hv = c.hashicorp_vault().unwrap().unwrap();
        assert_eq!(hv.url, "https://vault.internal:8200");
        assert_eq!(hv.mount, "secret");
        assert_eq!(
            hv.token,
            SecretRef::EnvironmentVar {
                name: "VAULT_TOKEN".into()
            }
        );
        let c = config("HashiCorpVault:\n  Url: https://v\n  Token: {File: token}\n  Mount: kv\n");
        let hv = c.hashicorp_vault().unwrap().unwrap();
        assert_eq!(
            hv.token,
            SecretRef::File {
                path: "/cfg/token".into()
            }
        );
        assert_eq!(hv.mount, "kv");
        let err = config("HashiCorpVault:\n  Url: vault:8200\n")
            .hashicorp_vault()
            .unwrap_err();
        assert!(
            err.message.contains("not an http:// or https:// URL"),
            "{err}"
        );
        let err = config("HashiCorpVault:\n  Namespace: x\n")
            .hashicorp_vault()
            .unwrap_err();
        assert_eq!(err.key, "HashiCorpVault.Url");
    }

    #[test]
    fn guids() {
        assert!(is_guid(WS));
        assert!(is_guid(&format!("{{{WS}}}")));
        assert!(!is_guid("c1e9ab1f5a3e4a7b9a1d0d2d7e3b6f10"));
        assert!(!is_guid("c1e9ab1f-5a3e-4a7b-9a1d-0d2d7e3b6f1g"));
    }
}
