//! `huntbook submit`: ask the running service (`huntbook serve`) to run a notebook
//! of its catalogue, through its HTTP API; `--wait` follows the run to its end.

use std::time::Duration;

use clap::Args as ClapArgs;
use huntbook_notebook::params::resolve_cli_value;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::service::{runtime, summary, ApiClient, ClientArgs};

/// Run a notebook of the service's catalogue (through `huntbook serve`'s API)
#[derive(ClapArgs, Debug)]
#[command(after_help = "\
The service's URL comes from --url, $HUNTBOOK_URL or the configuration's Service.listen;
the token from --token or $HUNTBOOK_TOKEN (scope run). The job's id is printed on stdout.

Examples:
  huntbook submit ip_context -p ip_address 1.2.3.4
  huntbook submit ip_context -p ip_address 1.2.3.4 --wait          # exits 1 unless it succeeds
  huntbook submit host_hunt -p host WS01 --at 2026-12-01T09:00Z     # a one-off run later
  huntbook submit alert_triage -p alert_id 42 --idempotency-key alert-42  # at most one job per key")]
pub struct Args {
    /// The notebook's name in the service's catalogue
    pub notebook: String,
    /// A parameter value, read as `huntbook run -p` does (numbers, True/False, None, else text)
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    pub parameters: Vec<String>,
    /// Not before this time (RFC 3339, e.g. 2026-12-01T09:00Z)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A second submit with the same key gets the first job back
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Follow the run until it ends; exit 1 unless it succeeded
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> u8 {
    match runtime().block_on(execute(args)) {
        Ok(code) => code,
        Err(e) => super::fail(e),
    }
}

async fn execute(args: Args) -> Result<u8, String> {
    let client = ApiClient::new(&args.client)?;
    let parameters: Map<String, Value> = args
        .parameters
        .chunks(2)
        .map(|pair| (pair[0].clone(), resolve_cli_value(&pair[1]).to_json()))
        .collect();
    let mut body = json!({"notebook": args.notebook, "parameters": parameters});
    if let Some(at) = &args.at {
        body["at"] = json!(at);
    }
    if let Some(key) = &args.idempotency_key {
        body["idempotency_key"] = json!(key);
    }
    let (_, job) = client
        .call(
            Method::POST,
            client.url(&["api", "v1", "runs"], &[]),
            Some(&body),
        )
        .await?;
    let id = job["id"].as_str().unwrap_or_default().to_owned();
    println!("{id}");
    if !args.wait {
        return Ok(0);
    }
    let job = wait(&client, &id).await?;
    eprintln!("{}", summary(&job));
    Ok(if job["state"] == "succeeded" { 0 } else { 1 })
}

/// Poll the job until it ends, showing its state (and cell) on a spinner.
pub async fn wait(client: &ApiClient, id: &str) -> Result<Value, String> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    let job = loop {
        let mut detail = client.get(&["api", "v1", "runs", id], &[]).await?;
        let job = detail["job"].take();
        let state = job["state"].as_str().unwrap_or("?").to_owned();
        if !matches!(state.as_str(), "queued" | "running") {
            break job;
        }
        let mut message = format!("{} {state}", job["notebook"].as_str().unwrap_or(""));
        let progress = &detail["progress"];
        if let (Some(cell), Some(total)) = (progress["cell"].as_u64(), progress["total"].as_u64()) {
            message.push_str(&format!(": cell {cell} of {total}"));
        }
        spinner.set_message(message);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    spinner.finish_and_clear();
    Ok(job)
}
