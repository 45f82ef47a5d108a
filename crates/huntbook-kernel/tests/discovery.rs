//! Discovery through the real process environment: `$JUPYTER_PATH` with a fake spec,
//! and the `python` → venv interpreter rewrite, proven by launching the result.
//!
//! This binary holds a single test because it changes environment variables, which
//! other threads of the same process must not be reading.

mod common;

use std::time::Duration;

use common::*;
use huntbook_kernel::{find_kernelspec, list_kernelspecs, Discovery, Kernel, LaunchOptions};

#[tokio::test]
async fn jupyter_path_and_interpreter_rewrite() {
    let python = python();
    let venv = python.parent().unwrap().parent().unwrap().to_path_buf();
    let data = tempfile::tempdir().unwrap();
    let spec_dir = data.path().join("kernels/Fake-Py");
    std::fs::create_dir_all(&spec_dir).unwrap();
    std::fs::write(
        spec_dir.join("kernel.json"),
        r#"{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Fake Python", "language": "python",
            "env": {"HUNTBOOK_FAKE_SPEC": "yes"}}"#,
    )
    .unwrap();
    let empty_home = tempfile::tempdir().unwrap();
    // SAFETY: this is the only test in this binary, so no other thread reads the
    // environment concurrently.
    unsafe {
        std::env::set_var("JUPYTER_PATH", data.path());
        std::env::remove_var("VIRTUAL_ENV");
        std::env::remove_var("JUPYTER_DATA_DIR");
        std::env::remove_var("XDG_DATA_HOME");
        std::env::set_var("HOME", empty_home.path());
    }

    // Found by its lower-cased directory name; with nothing to say which Python,
    // argv[0] is left for PATH to resolve.
    let plain = find_kernelspec("fake-py", &Discovery::default()).unwrap();
    assert_eq!(plain.display_name, "Fake Python");
    assert_eq!(plain.argv[0], "python3");
    assert_eq!(plain.resource_dir, spec_dir);
    let searched = Discovery::default().search_dirs().unwrap();
    assert_eq!(searched[0], data.path().join("kernels"));
    assert!(searched.contains(&empty_home.path().join(".local/share/jupyter/kernels")));

    // An activated venv supplies the interpreter for Python kernels.
    // SAFETY: as above.
    unsafe { std::env::set_var("VIRTUAL_ENV", &venv) };
    let from_venv = find_kernelspec("fake-py", &Discovery::default()).unwrap();
    assert_eq!(from_venv.argv[0], venv.join("bin/python").to_string_lossy());
    // SAFETY: as above.
    unsafe { std::env::remove_var("VIRTUAL_ENV") };

    // A named interpreter does too, and its own kernels become visible.
    let named = Discovery::with_python(&python);
    let spec = find_kernelspec("fake-py", &named).unwrap();
    assert_eq!(spec.argv[0], python.to_string_lossy());
    let names: Vec<String> = list_kernelspecs(&named)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        names.contains(&"python3".to_string()) && names.contains(&"fake-py".to_string()),
        "{names:?}"
    );

    // And the rewritten spec really runs, with the spec's env.
    let mut kernel = Kernel::launch(&spec, LaunchOptions::default())
        .await
        .unwrap();
    let (events, _) = run_ok(
        &mut kernel,
        "import os, sys; print(sys.prefix); print(os.environ['HUNTBOOK_FAKE_SPEC'])",
    )
    .await;
    assert_eq!(
        stream_text(&events, "stdout"),
        format!("{}\nyes\n", venv.display())
    );
    kernel.shutdown(Duration::from_secs(5)).await;
}
