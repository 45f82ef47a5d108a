//! `huntbook token`: issue, list and revoke the service's API tokens, directly in
//! the configured job store (no running service needed).

use clap::{Args as ClapArgs, Subcommand};
use huntbook_runner::Scope;

use super::service::{open_store, runtime, ConfigArg};

/// Manage the API tokens of `huntbook serve`
#[derive(ClapArgs, Debug)]
#[command(after_help = "\
A token is shown once, when it is created; the store keeps only its hash.
Scopes: read (runs, logs, notebooks, metrics) < run (also start and cancel runs) < admin.

Examples:
  huntbook token create --scope run --name ci    # prints the token once
  export HUNTBOOK_TOKEN=$(huntbook token create --scope read)
  huntbook token list
  huntbook token revoke 6f1c2d4e-...")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Issue a token and print it (on stdout, once)
    Create {
        /// What it may do: read, run or admin
        #[arg(long, value_parser = |s: &str| s.parse::<Scope>())]
        scope: Scope,
        /// A name to recognise it by in `token list`
        #[arg(long, default_value = "unnamed")]
        name: String,
    },
    /// List the tokens (never their text)
    List,
    /// Revoke a token by its id: it is refused from then on
    Revoke {
        /// Its id, as `token list` shows it
        id: String,
    },
}

pub fn run(args: Args) -> u8 {
    match runtime().block_on(execute(args)) {
        Ok(()) => 0,
        Err(e) => super::fail(e),
    }
}

async fn execute(args: Args) -> Result<(), String> {
    let (_, service) = args.config.load()?;
    let store = open_store(&service).await?;
    match args.command {
        Command::Create { scope, name } => {
            let issued = store
                .create_token(&name, scope)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "token {} ({name}, scope {scope}); it is shown only now:",
                issued.info.id
            );
            println!("{}", issued.token);
        }
        Command::List => {
            for token in store.tokens().await.map_err(|e| e.to_string())? {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                println!(
                    "{}  {:<6} {:<20} created {}  last used {}{}",
                    token.id,
                    token.scope,
                    token.name,
                    when(Some(token.created_at)),
                    when(token.last_used_at),
                    token
                        .revoked_at
                        .map_or(String::new(), |t| format!("  REVOKED {}", when(Some(t))))
                );
            }
        }
        Command::Revoke { id } => {
            let id = id.parse().map_err(|_| {
                format!("'{id}' is not a token id (`huntbook token list` shows them)")
            })?;
            let token = store.revoke_token(id).await.map_err(|e| e.to_string())?;
            eprintln!("revoked token {} ({})", token.id, token.name);
        }
    }
    Ok(())
}
