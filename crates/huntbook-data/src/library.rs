//! The built-in query library: the YAML files under `queries/<environment>/`, compiled
//! into the binary so that `huntbook` needs no files beside it.

/// Lists the library's files; each is embedded with `include_str!`, so a file listed
/// here but missing fails the build, and a test fails for a file present but not listed.
macro_rules! library {
    ($($path:literal),* $(,)?) => {
        /// `(path under queries/, text)` of every built-in query file.
        pub const BUILTIN: &[(&str, &str)] = &[
            $(($path, include_str!(concat!("../queries/", $path)))),*
        ];
    };
}

library![
    "elastic/dsl_security.yaml",
    "kusto/kql_adx.yaml",
    "localdata/local_data.yaml",
    "m365d/kql_defender_process.yaml",
    "mssentinel/kql_alerts.yaml",
    "mssentinel/kql_linux.yaml",
    "mssentinel/kql_network.yaml",
    "mssentinel/kql_office.yaml",
    "mssentinel/kql_signin.yaml",
    "mssentinel/kql_ti.yaml",
    "mssentinel/kql_windows.yaml",
    "opensearch/dsl_security.yaml",
    "splunk/spl_security.yaml",
];

#[cfg(test)]
mod tests {
    use super::BUILTIN;
    use std::path::Path;

    #[test]
    fn every_file_under_queries_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk = Vec::new();
        for env in std::fs::read_dir(&root).unwrap() {
            let env = env.unwrap().path();
            for file in std::fs::read_dir(&env).unwrap() {
                let file = file.unwrap().path();
                let rel = file
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                on_disk.push(rel);
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = BUILTIN.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "list every file of queries/ in library.rs");
    }
}
