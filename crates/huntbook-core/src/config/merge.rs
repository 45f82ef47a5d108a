//! Layering: a later file overrides an earlier one key by key.

use super::value::{Kind, Value};

/// Merges `over` into `base`: mappings merge entry by entry, at any depth; any other
/// value in `over` replaces the one in `base`, except an empty (null) value, which
/// MSTICPy skips so that a key left blank does not erase a setting.
pub(crate) fn merge(base: &mut Value, over: Value) {
    let Kind::Map(over_entries) = over.kind else {
        if !over.is_null() {
            *base = over;
        }
        return;
    };
    let Kind::Map(base_entries) = &mut base.kind else {
        *base = Value::new(Kind::Map(over_entries), over.origin);
        return;
    };
    for (key, value) in over_entries {
        match base_entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => merge(existing, value),
            None if value.is_null() => {}
            None => base_entries.push((key, value)),
        }
    }
}

/// MSTICPy reads `MSSentinel` as another name for `AzureSentinel`; folding it in here
/// means every later step looks in one place. `AzureSentinel` wins where both set a
/// key.
pub(crate) fn fold_aliases(root: &mut Value) {
    let Kind::Map(entries) = &mut root.kind else {
        return;
    };
    let Some(index) = entries.iter().position(|(k, _)| k == "MSSentinel") else {
        return;
    };
    let (_, alias) = entries.remove(index);
    match entries.iter_mut().find(|(k, _)| k == "AzureSentinel") {
        Some((_, canonical)) => {
            let written = std::mem::replace(canonical, alias.clone());
            merge(canonical, written);
        }
        None => entries.insert(index, ("AzureSentinel".to_string(), alias)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::super::value::Origin;
    use super::super::yaml::parse_mapping;
    use super::*;

    fn parse(name: &str, text: &str) -> Value {
        parse_mapping(text, Some(Arc::new(PathBuf::from(name)))).unwrap()
    }

    #[test]
    fn mappings_merge_key_by_key_and_keep_each_origin() {
        let mut base = parse(
            "msticpyconfig.yaml",
            "TIProviders:\n  OTX:\n    Args:\n      AuthKey: old\n    Primary: true\n  VirusTotal:\n    Primary: false\n",
        );
        merge(
            &mut base,
            parse(
                "huntbook.yaml",
                "TIProviders:\n  OTX:\n    Args:\n      AuthKey:\n        EnvironmentVar: OTX\n  GreyNoise:\n    Primary: true\n",
            ),
        );
        let auth = base.get_path("TIProviders.OTX.Args.AuthKey").unwrap();
        assert_eq!(auth.get("EnvironmentVar").unwrap().as_str(), Some("OTX"));
        assert_eq!(auth.origin.to_string(), "huntbook.yaml:4");
        let primary = base.get_path("TIProviders.OTX.Primary").unwrap();
        assert_eq!(primary.as_bool(), Some(true));
        assert_eq!(primary.origin.to_string(), "msticpyconfig.yaml:5");
        assert!(base.get_path("TIProviders.VirusTotal.Primary").is_some());
        assert!(base.get_path("TIProviders.GreyNoise.Primary").is_some());
    }

    #[test]
    fn lists_and_scalars_are_replaced_not_merged() {
        let mut base = parse("a.yaml", "QueryDefinitions:\n  Custom: [one, two]\n");
        merge(
            &mut base,
            parse("b.yaml", "QueryDefinitions:\n  Custom: [three]\n"),
        );
        let custom = base.get_path("QueryDefinitions.Custom").unwrap();
        assert!(matches!(&custom.kind, Kind::List(items) if items.len() == 1));
        assert_eq!(custom.origin.to_string(), "b.yaml:2");
    }

    #[test]
    fn empty_values_do_not_erase() {
        let mut base = parse("a.yaml", "KeyVault:\n  VaultName: soc\n");
        merge(&mut base, parse("b.yaml", "KeyVault:\n  VaultName:\n"));
        assert_eq!(
            base.get_path("KeyVault.VaultName").unwrap().as_str(),
            Some("soc")
        );
    }

    #[test]
    fn mssentinel_is_read_as_azuresentinel() {
        let mut root = parse(
            "m.yaml",
            "MSSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: a\n      TenantId: t\n",
        );
        fold_aliases(&mut root);
        assert!(root.get("MSSentinel").is_none());
        assert_eq!(
            root.get_path("AzureSentinel.Workspaces.Default.WorkspaceId")
                .unwrap()
                .as_str(),
            Some("a")
        );

        let mut both = parse(
            "m.yaml",
            "MSSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: alias\n      TenantId: t\nAzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: canonical\n",
        );
        fold_aliases(&mut both);
        let default = both.get_path("AzureSentinel.Workspaces.Default").unwrap();
        assert_eq!(
            default.get("WorkspaceId").unwrap().as_str(),
            Some("canonical")
        );
        assert_eq!(default.get("TenantId").unwrap().as_str(), Some("t"));
        assert!(matches!(default.origin, Origin::File { .. }));
    }
}
