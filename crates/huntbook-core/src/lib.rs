//! The shared vocabulary of huntbook: pure, no network, no async. It reads
//! configuration files and environment variables, and nothing else.
//!
//! * [`time`] reads MSTICPy's time grammar (`now`, ISO dates, `-3d@d`, day counts)
//!   into instants, checked [`time::TimeSpan`]s and the [`time::Period`]s a query is
//!   split by.
//! * [`config`] finds `msticpyconfig.yaml` and `huntbook.yaml`, merges them key by
//!   key into a [`config::Config`] whose every value knows its file and line, offers
//!   typed views of MSTICPy's sections and checks them all at once.
//! * [`secret`] holds credentials: a [`secret::SecretRef`] says where a secret is
//!   (environment, file, Key Vault, HashiCorp Vault, or the file itself); a
//!   [`secret::SecretResolver`] fetches it through [`secret::SecretSource`]s into a
//!   [`secret::Secret`] that never prints its value.
//! * [`entities`] is the Microsoft Sentinel entity model (Account, Host, IpAddress,
//!   Process, File...) read from alert and incident `Entities` JSON, with `$id`/`$ref`
//!   links resolved into an [`entities::EntityGraph`]; entities compare, merge and
//!   write back to the same JSON; [`entities::param_anchors`] says which entity a
//!   query parameter is about, so queries attach to entities as pivots.
//! * [`pipeline`] reads pivot pipelines (MSTICPy's YAML) into checked steps.
//!
//! A provider's credential, from configuration to value:
//!
//! ```
//! use std::path::Path;
//! use huntbook_core::config::Config;
//! use huntbook_core::secret::SecretResolver;
//! use huntbook_core::time::parse_time;
//!
//! std::env::set_var("OTX_KEY_FOR_DOCS", "k-123");
//! let yaml = "TIProviders:\n  OTX:\n    Args:\n      AuthKey: {EnvironmentVar: OTX_KEY_FOR_DOCS}\n";
//! let config = Config::from_yaml(&[(Path::new("huntbook.yaml"), yaml)]).unwrap();
//! let reference = config.secret("TIProviders.OTX.Args.AuthKey").unwrap().unwrap();
//! let key = SecretResolver::local().resolve(&reference).unwrap();
//! assert_eq!(key.expose(), "k-123");
//! assert_eq!(format!("{key}"), "***");
//!
//! let now = "2024-03-31T14:25:36Z".parse().unwrap();
//! assert_eq!(parse_time("-3d@d", now).unwrap().to_rfc3339(), "2024-03-28T00:00:00+00:00");
//! ```

pub mod config;
pub mod entities;
pub mod pipeline;
pub mod secret;
pub mod time;
