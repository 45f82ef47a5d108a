//! `huntbook geoip` and `huntbook whois`: where IP addresses are and who holds them,
//! for addresses on the command line or in a table's column.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use arrow_array::RecordBatch;
use huntbook_context::columns;
use huntbook_context::geoip::{
    self, GeoLiteLookup, GeoLiteSettings, GeoLocation, IpStackLookup, IpStackSettings,
};
use huntbook_context::whois::{self, WhoisLookup, WhoisResult, WhoisSettings};
use huntbook_core::config::{Config, ConfigSearch};
use huntbook_http::vault::resolver;
use reqwest::Url;

use super::table_io::{self, Progress};

/// Where the addresses come from, and where the answers go.
#[derive(clap::Args)]
pub struct Addresses {
    /// IP addresses to look up
    #[arg(value_name = "IP")]
    pub ips: Vec<String>,
    /// A table (.csv, .jsonl or .parquet) whose --column holds the addresses; the
    /// output is its rows with the answers added
    #[arg(short = 'f', long, value_name = "FILE", requires = "column")]
    pub file: Option<PathBuf>,
    /// The column of --file that holds the addresses
    #[arg(short = 'c', long, value_name = "COLUMN", requires = "file")]
    pub column: Option<String>,
    /// Write the table to this file (.csv, .jsonl or .parquet) instead of printing
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Locate IP addresses: country, region, city, coordinates (MaxMind GeoLite2 or IPStack)
#[derive(clap::Args)]
#[command(after_help = "\
The databases are the MaxMind files in OtherProviders.GeoIPLite.Args.DBFolder of the \
configuration (default ~/.msticpy/GeoLite2): GeoLite2-City.mmdb (or GeoIP2-City, or a \
Country database) and, if present, GeoLite2-ASN.mmdb for Asn and AsnOrg. With AccountID \
and AuthKey (a MaxMind licence key) configured, GeoLite2-City is downloaded when missing \
or more than 30 days old. Private, loopback and other non-public addresses are not \
looked up: they read \"Private address\" / \"location unknown\", as in MSTICPy.

Columns: IpAddress, CountryCode, CountryOrRegionName, State, City, Longitude, Latitude, \
Asn, AsnOrg.

Examples:
  huntbook geoip 8.8.8.8 81.2.69.160
  huntbook geoip --file signins.csv --column SourceIP -o signins_geo.parquet
  huntbook geoip 81.2.69.160 --db GeoIP2-City.mmdb --db GeoLite2-ASN.mmdb
  huntbook geoip 81.2.69.160 --provider ipstack     # OtherProviders.IPStack.Args.AuthKey")]
pub struct GeoipArgs {
    #[command(flatten)]
    pub addresses: Addresses,
    /// A .mmdb database to use instead of the configured folder (repeatable: one
    /// location database and one ASN database)
    #[arg(long, value_name = "FILE")]
    pub db: Vec<PathBuf>,
    /// Where the locations come from
    #[arg(long, value_enum, default_value = "maxmind")]
    pub provider: Provider,
    /// Never download a database, even when the configured one is old
    #[arg(long)]
    pub no_download: bool,
    /// The GeoLite2 download URL (a mirror, or a test server)
    #[arg(long, value_name = "URL", hide = true)]
    pub download_url: Option<Url>,
    /// The IPStack service URL (a test server)
    #[arg(long, value_name = "URL", hide = true)]
    pub ipstack_url: Option<Url>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Provider {
    Maxmind,
    Ipstack,
}

/// Who holds IP addresses: AS (Team Cymru) and registered networks (RDAP)
#[derive(clap::Args)]
#[command(after_help = "\
The AS comes from Team Cymru's bulk whois (TCP port 43), the registered networks from \
the regional registry's RDAP service, found through IANA's bootstrap files; referrals \
between registries are followed. A failure for one address shows in its whois_error \
cell and does not stop the others. Non-public addresses are not looked up.

Columns (MSTICPy's): query, asn, asn_cidr, asn_country_code, asn_registry, asn_date, \
asn_description, nets (a list of cidr, range, name, handle, country, startAddress, \
endAddress, created, updated, address, emails, source), whois_error; rows of --file \
also get AsnDescription.

Examples:
  huntbook whois 13.107.4.50 8.8.8.8
  huntbook whois --file signins.csv --column SourceIP -o signins_whois.parquet
  huntbook whois 13.107.4.50 --rate 2            # at most 2 RDAP requests/s per registry")]
pub struct WhoisArgs {
    #[command(flatten)]
    pub addresses: Addresses,
    /// RDAP requests per second to one registry
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub rate: u32,
    /// RDAP lookups in flight at once
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// The longest wait for one answer, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// The Team Cymru whois server (host:port)
    #[arg(long, value_name = "HOST:PORT", default_value = whois::CYMRU_SERVER)]
    pub cymru: String,
    /// The folder of IANA's RDAP bootstrap files
    #[arg(long, value_name = "URL", default_value = whois::IANA_BOOTSTRAP)]
    pub rdap_bootstrap: Url,
}

/// The addresses to look up, and the input table when there is one.
struct Input {
    ips: Vec<String>,
    table: Option<RecordBatch>,
}

fn read_addresses(args: &Addresses, progress: &Progress) -> Result<Input, String> {
    if let Some(output) = &args.output {
        table_io::check_output(output)?;
    }
    match (&args.file, &args.column) {
        (Some(file), Some(column)) => {
            if !args.ips.is_empty() {
                return Err(
                    "give addresses either on the command line or with --file, not both".into(),
                );
            }
            let batch = table_io::read_input(file, progress)?;
            let values =
                columns::text_values(&batch, column).map_err(|e| table_io::in_file(file, e))?;
            Ok(Input {
                ips: columns::distinct(&values),
                table: Some(batch),
            })
        }
        _ if args.ips.is_empty() => {
            Err("no addresses: give IP addresses, or --file and --column".into())
        }
        _ => Ok(Input {
            ips: args.ips.iter().map(|ip| ip.trim().to_string()).collect(),
            table: None,
        }),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub fn run_geoip(args: GeoipArgs) -> u8 {
    table_io::exit_code(geoip(args))
}

pub fn run_whois(args: WhoisArgs) -> u8 {
    table_io::exit_code(whois_command(args))
}

fn geoip(args: GeoipArgs) -> Result<(), String> {
    let progress = Progress::new();
    let input = read_addresses(&args.addresses, &progress)?;
    progress.step(format!("Locating {} addresses", input.ips.len()));
    let found = match args.provider {
        Provider::Maxmind => maxmind(&args, &input.ips, &progress)?,
        Provider::Ipstack => ipstack(&args, &input.ips)?,
    };
    match (&input.table, &args.addresses.output) {
        (Some(table), output) => {
            let column = args.addresses.column.as_deref().unwrap_or_default();
            let by_ip: HashMap<String, GeoLocation> = input
                .ips
                .iter()
                .cloned()
                .zip(found.iter().cloned())
                .filter_map(|(ip, f)| f.map(|f| (ip, f)))
                .collect();
            let joined = geoip::join_locations(table, column, &by_ip).map_err(|e| e.to_string())?;
            finish(joined, output.as_ref(), &progress, || {
                print_locations(&input.ips, &found)
            })
        }
        (None, output) => finish(
            geoip::locations_batch(&input.ips, &found),
            output.as_ref(),
            &progress,
            || print_locations(&input.ips, &found),
        ),
    }
}

/// Writes the table to the output file, or prints the text form.
fn finish(
    batch: RecordBatch,
    output: Option<&PathBuf>,
    progress: &Progress,
    print: impl FnOnce(),
) -> Result<(), String> {
    match output {
        Some(path) => {
            let rows = batch.num_rows();
            table_io::write_output(path, batch, progress)?;
            progress.note(format!("{rows} rows written to {}", path.display()));
        }
        None => {
            drop(batch);
            print();
        }
    }
    Ok(())
}

fn load_config() -> Result<Config, String> {
    Config::load(&ConfigSearch::from_process()).map_err(|e| e.to_string())
}

fn maxmind(
    args: &GeoipArgs,
    ips: &[String],
    progress: &Progress,
) -> Result<Vec<Option<GeoLocation>>, String> {
    let lookup = if args.db.is_empty() {
        let config = load_config()?;
        let mut settings =
            GeoLiteSettings::from_config(&config, &resolver(&config)).map_err(|e| e.to_string())?;
        if let Some(url) = &args.download_url {
            settings.download_url = url.clone();
        }
        progress.step("Opening the GeoLite2 databases".into());
        let (lookup, refresh) = runtime()?
            .block_on(settings.open(!args.no_download))
            .map_err(|e| e.to_string())?;
        if let Some(note) = refresh.note(&settings) {
            progress.note(note);
        }
        lookup
    } else {
        GeoLiteLookup::open(&args.db).map_err(|e| e.to_string())?
    };
    lookup.lookup_all(ips).map_err(|e| e.to_string())
}

fn ipstack(args: &GeoipArgs, ips: &[String]) -> Result<Vec<Option<GeoLocation>>, String> {
    let config = load_config()?;
    let mut settings = IpStackSettings::from_config(&config, &resolver(&config))
        .map_err(|e| e.to_string())?
        .ok_or("IPStack is not configured: add OtherProviders.IPStack.Args.AuthKey to huntbook.yaml or msticpyconfig.yaml")?;
    if let Some(url) = &args.ipstack_url {
        settings.base_url = url.clone();
    }
    let lookup = IpStackLookup::from_settings(settings).map_err(|e| e.to_string())?;
    runtime()?
        .block_on(lookup.lookup(ips))
        .map_err(|e| e.to_string())
}

fn whois_command(args: WhoisArgs) -> Result<(), String> {
    let progress = Progress::new();
    let input = read_addresses(&args.addresses, &progress)?;
    progress.step(format!("Looking up {} addresses", input.ips.len()));
    let settings = WhoisSettings {
        bootstrap_url: args.rdap_bootstrap.clone(),
        cymru_server: args.cymru.clone(),
        concurrency: args.concurrency,
        requests_per_second: args.rate,
        timeout: Duration::from_secs(args.timeout),
    };
    let lookup = WhoisLookup::new(settings).map_err(|e| e.to_string())?;
    let results = runtime()?.block_on(lookup.lookup(&input.ips));
    let batch = match &input.table {
        Some(table) => {
            let column = args.addresses.column.as_deref().unwrap_or_default();
            let by_ip: HashMap<String, WhoisResult> = results
                .iter()
                .map(|r| (r.query.clone(), r.clone()))
                .collect();
            whois::join_whois(table, column, &by_ip).map_err(|e| e.to_string())?
        }
        None => whois::whois_batch(&results),
    };
    finish(batch, args.addresses.output.as_ref(), &progress, || {
        print_whois(&results)
    })
}

/// Prints rows as aligned columns; empty cells as `-`.
fn print_rows(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn cell<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn print_locations(ips: &[String], found: &[Option<GeoLocation>]) {
    let rows = ips
        .iter()
        .zip(found)
        .map(|(ip, f)| {
            let f = f.clone().unwrap_or_default();
            vec![
                ip.clone(),
                cell(f.country_code),
                cell(f.country_name),
                cell(f.state),
                cell(f.city),
                cell(f.latitude),
                cell(f.longitude),
                cell(f.asn),
                cell(f.asn_org),
            ]
        })
        .collect();
    print_rows(
        &[
            "IpAddress",
            "CountryCode",
            "CountryOrRegionName",
            "State",
            "City",
            "Latitude",
            "Longitude",
            "Asn",
            "AsnOrg",
        ],
        rows,
    );
}

fn print_whois(results: &[WhoisResult]) {
    let rows = results
        .iter()
        .map(|r| {
            let net = r.nets.first();
            vec![
                r.query.clone(),
                cell(r.asn.as_ref().map(|a| &a.asn)),
                cell(r.asn.as_ref().map(|a| &a.cidr)),
                cell(r.asn.as_ref().map(|a| &a.description)),
                cell(net.map(|n| &n.cidr)),
                cell(net.and_then(|n| n.name.as_ref())),
                cell(net.and_then(|n| n.country.as_ref())),
                cell(net.map(|n| n.emails.join(","))),
                cell(r.error.as_ref()),
            ]
        })
        .collect();
    print_rows(
        &[
            "query",
            "asn",
            "asn_cidr",
            "asn_description",
            "net",
            "name",
            "country",
            "emails",
            "error",
        ],
        rows,
    );
}
