//! Runs the fake Log Analytics query API and its fake Entra ID on loopback, for tests
//! written in other languages (the Python package's).
//!
//! Prints one JSON line with the addresses, workspaces and credentials to use, then
//! serves until its standard input closes:
//!
//! ```text
//! cargo run -p huntbook-data --features testkit --example fake_query_services
//! {"log_analytics": "http://127.0.0.1:PORT/", "authority": "...", "tenant_id": "...",
//!  "client_id": "...", "client_secret": "...", "token": "...", "workspaces": [...]}
//! ```
//!
//! Each workspace holds a `SigninLogs` table of 20 rows; the API understands
//! `SigninLogs`, optionally followed by `| take N`.

use std::io::Read;

use huntbook_data::remote::fakes::{
    self, FakeLogAnalytics, WORKSPACE_A, WORKSPACE_B, WORKSPACE_C,
};
use huntbook_http::testkit::FakeEntraIdConfig;
use serde_json::json;

/// A token valid for the fake API without signing in.
const STATIC_TOKEN: &str = "fake-log-analytics-token-for-tests";

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    runtime.block_on(async {
        let fake = FakeLogAnalytics::start(|router| router).await;
        fake.entra
            .issued()
            .insert(STATIC_TOKEN, "https://api.loganalytics.io");
        let entra = FakeEntraIdConfig::default();
        let ready = json!({
            "log_analytics": fake.url(),
            "authority": fake.entra.authority(),
            "tenant_id": entra.tenant,
            "client_id": entra.client_id,
            "client_secret": fakes::APP_SECRET,
            "token": STATIC_TOKEN,
            "workspaces": [WORKSPACE_A, WORKSPACE_B, WORKSPACE_C],
            "rows_per_workspace": fakes::ROWS_PER_WORKSPACE,
        });
        println!("{ready}");
        // Serve until the test closes our standard input (or dies).
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .expect("the stdin reader does not panic");
    });
}
