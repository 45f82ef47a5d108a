//! `huntbook runs`: list, show, cancel and read the log of the service's jobs and
//! runs, through its HTTP API.

use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use reqwest::Method;
use serde_json::Value;

use super::service::{runtime, summary, ApiClient, ClientArgs};

/// List, show, cancel and follow the service's runs (through `huntbook serve`'s API)
#[derive(ClapArgs, Debug)]
#[command(after_help = "\
A job is a request to run a notebook; a run is one attempt at it. `show`, `cancel` and
`log` take either id (`log` of a job reads its latest run).

Examples:
  huntbook runs list --status failed
  huntbook runs list --notebook ip_context --limit 20
  huntbook runs show 6f1c2d4e-...                 # the job with its runs, as JSON
  huntbook runs cancel 6f1c2d4e-...
  huntbook runs log 6f1c2d4e-... --follow         # the run's output as it runs")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Jobs, newest first, with their latest run
    List {
        /// Only jobs in this state: queued, running, succeeded, failed, timed_out, cancelled
        #[arg(long)]
        status: Option<String>,
        /// Only jobs of this notebook
        #[arg(long)]
        notebook: Option<String>,
        /// At most this many
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// A job with its runs, or a run with its job, and its progress (JSON)
    Show {
        /// A job id or a run id
        id: String,
    },
    /// Cancel a job (queued: at once; running: its worker stops it)
    Cancel {
        /// A job id, or a run id for its job
        id: String,
    },
    /// A run's output so far
    Log {
        /// A run id, or a job id for its latest run
        id: String,
        /// Keep printing as the run writes, until it ends
        #[arg(long)]
        follow: bool,
    },
}

pub fn run(args: Args) -> u8 {
    match runtime().block_on(execute(args)) {
        Ok(()) => 0,
        Err(e) => super::fail(e),
    }
}

async fn execute(args: Args) -> Result<(), String> {
    let client = ApiClient::new(&args.client)?;
    match args.command {
        Command::List {
            status,
            notebook,
            limit,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            query.extend(status.map(|s| ("status", s)));
            query.extend(notebook.map(|n| ("notebook", n)));
            let answer = client.get(&["api", "v1", "runs"], &query).await?;
            for job in answer["jobs"].as_array().into_iter().flatten() {
                println!("{}", summary(job));
            }
        }
        Command::Show { id } => {
            let answer = client.get(&["api", "v1", "runs", &id], &[]).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).unwrap_or_default()
            );
        }
        Command::Cancel { id } => {
            let url = client.url(&["api", "v1", "runs", &id, "cancel"], &[]);
            let (_, answer) = client.call(Method::POST, url, None).await?;
            let result = answer["result"].as_str().unwrap_or("?").replace('_', " ");
            println!("{result}: {}", summary(&answer["job"]));
        }
        Command::Log { id, follow } => log(&client, &id, follow).await?,
    }
    Ok(())
}

async fn log(client: &ApiClient, id: &str, follow: bool) -> Result<(), String> {
    use std::io::Write;
    let mut after = 0;
    loop {
        let page: Value = client
            .get(
                &["api", "v1", "runs", id, "log"],
                &[("after", after.to_string())],
            )
            .await?;
        let text = page["text"].as_str().unwrap_or("");
        print!("{text}");
        let _ = std::io::stdout().flush();
        after = page["next"].as_u64().unwrap_or(after);
        let finished = page["finished"].as_bool().unwrap_or(true);
        if finished || (!follow && text.is_empty()) {
            return Ok(());
        }
        if text.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
