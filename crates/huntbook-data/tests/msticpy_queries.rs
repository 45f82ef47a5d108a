//! MSTICPy's own query library loads unchanged: every file of the installed msticpy
//! package is read, and the families and queries per environment match what Python
//! counts from the same files with msticpy's environment names.
//!
//! The interpreter is `$HUNTBOOK_TEST_PYTHON` or `<workspace>/.venv/bin/python`; the
//! test is skipped (saying so) only when neither exists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use huntbook_data::import_folders;

fn python() -> Option<PathBuf> {
    let path = match std::env::var_os("HUNTBOOK_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    };
    path.exists().then_some(path)
}

/// Per environment (msticpy's canonical name): (families, distinct family.query names).
const COUNT: &str = r#"
import glob, json, os, yaml, msticpy
from msticpy.data.core.query_defns import DataEnvironment
root = os.path.join(os.path.dirname(msticpy.__file__), "data", "queries")
out = {}
for f in sorted(glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True)):
    doc = yaml.safe_load(open(f, encoding="utf-8")) or {}
    md, sources = doc.get("metadata") or {}, doc.get("sources") or {}
    if not md or not sources or not md.get("data_environments") or not md.get("data_families"):
        continue
    dmeta = (doc.get("defaults") or {}).get("metadata") or {}
    for env in md["data_environments"]:
        env = env.split(".")[-1]
        e = DataEnvironment.parse(env)
        name = e.name if e != DataEnvironment.Unknown else env
        fams, names = out.setdefault(name, (set(), set()))
        for q, s in sources.items():
            meta = {**md, **dmeta, **((s or {}).get("metadata") or {})}
            for fam in meta["data_families"]:
                fams.add(fam)
                names.add(fam + "." + q)
print(json.dumps({"root": root, "envs": {k: [len(f), len(n)] for k, (f, n) in out.items()}}))
"#;

#[test]
fn msticpy_library_loads_with_the_same_counts() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: no Python venv with msticpy (set HUNTBOOK_TEST_PYTHON)");
        return;
    };
    let out = Command::new(&python)
        .args(["-c", COUNT])
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = PathBuf::from(report["root"].as_str().unwrap());
    let expected: BTreeMap<String, (u64, u64)> = report["envs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())))
        .collect();

    let stores = import_folders(&[root]).unwrap_or_else(|e| panic!("{e}"));
    let got: BTreeMap<String, (u64, u64)> = stores
        .iter()
        .map(|(env, store)| {
            (
                env.name().to_string(),
                (store.families().count() as u64, store.len() as u64),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let total: u64 = got.values().map(|(_, n)| n).sum();
    assert!(total > 300, "only {total} queries");
}
