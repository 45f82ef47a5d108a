//! IoC type names, aliases, priorities, options and errors.

use std::fmt;
use std::sync::Arc;

/// An indicator type. The built-in names and priorities are MSTICPy's; `Custom` types
/// are added by the user with their own name and priority.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IocType {
    Ipv4,
    Ipv6,
    Dns,
    Url,
    Email,
    WindowsPath,
    LinuxPath,
    Md5Hash,
    Sha1Hash,
    Sha256Hash,
    Custom(Arc<str>),
}

/// Built-in types in MSTICPy's registration order, which is also the order in which
/// types are listed in the results of one text.
pub const BUILTIN_TYPES: [IocType; 10] = [
    IocType::Ipv4,
    IocType::Ipv6,
    IocType::Dns,
    IocType::Url,
    IocType::Email,
    IocType::WindowsPath,
    IocType::LinuxPath,
    IocType::Md5Hash,
    IocType::Sha1Hash,
    IocType::Sha256Hash,
];

// Positions in BUILTIN_TYPES; custom types follow at BUILTIN_COUNT + i.
pub(crate) const T_IPV4: usize = 0;
pub(crate) const T_IPV6: usize = 1;
pub(crate) const T_DNS: usize = 2;
pub(crate) const T_URL: usize = 3;
pub(crate) const T_EMAIL: usize = 4;
pub(crate) const T_WINDOWS_PATH: usize = 5;
pub(crate) const T_LINUX_PATH: usize = 6;
pub(crate) const T_MD5: usize = 7;
pub(crate) const T_SHA1: usize = 8;
pub(crate) const T_SHA256: usize = 9;
pub(crate) const BUILTIN_COUNT: usize = 10;

impl IocType {
    /// The canonical (MSTICPy) name, used in the `IoCType` output column.
    pub fn name(&self) -> &str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Dns => "dns",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::WindowsPath => "windows_path",
            IocType::LinuxPath => "linux_path",
            IocType::Md5Hash => "md5_hash",
            IocType::Sha1Hash => "sha1_hash",
            IocType::Sha256Hash => "sha256_hash",
            IocType::Custom(name) => name,
        }
    }

    /// Parses a built-in type name or one of its short aliases, case-insensitively:
    /// `ip`/`ip4` → ipv4, `ip6` → ipv6, `domain`/`hostname`/`fqdn` → dns, `uri` → url,
    /// `mail` → email, `md5`, `sha1`, `sha256`, `winpath`/`windows`,
    /// `lxpath`/`linux`/`unixpath`. Custom type names are resolved by the extractor.
    pub fn from_name(name: &str) -> Option<IocType> {
        let lower = name.trim().to_ascii_lowercase().replace('-', "_");
        Some(match lower.as_str() {
            "ipv4" | "ip4" | "ip" | "ipaddress" | "ip_address" => IocType::Ipv4,
            "ipv6" | "ip6" => IocType::Ipv6,
            "dns" | "domain" | "hostname" | "fqdn" | "host" => IocType::Dns,
            "url" | "uri" => IocType::Url,
            "email" | "mail" | "e_mail" => IocType::Email,
            "windows_path" | "winpath" | "windows" | "win_path" => IocType::WindowsPath,
            "linux_path" | "lxpath" | "linux" | "unixpath" | "unix_path" => IocType::LinuxPath,
            "md5_hash" | "md5" => IocType::Md5Hash,
            "sha1_hash" | "sha1" => IocType::Sha1Hash,
            "sha256_hash" | "sha256" => IocType::Sha256Hash,
            _ => return None,
        })
    }

    /// MSTICPy's priority of a built-in type: when one string fits several types, the
    /// lowest number wins. `None` for custom types (their priority is their own).
    pub fn builtin_priority(&self) -> Option<u32> {
        Some(match self {
            IocType::Ipv4 | IocType::Ipv6 | IocType::Url => 0,
            IocType::Email | IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash => 1,
            IocType::Dns => 2,
            IocType::WindowsPath => 3,
            IocType::LinuxPath => 4,
            IocType::Custom(_) => return None,
        })
    }

    pub(crate) fn builtin_index(&self) -> Option<usize> {
        BUILTIN_TYPES.iter().position(|t| t == self)
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A user-defined indicator type, MSTICPy's `add_ioc_type(name, regex, priority, group)`.
///
/// The regex uses the `regex` crate's syntax (no look-around or back-references) and,
/// as in MSTICPy, is matched case-insensitively with `^`/`$` at line ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomIocType {
    pub name: String,
    pub regex: String,
    pub priority: u32,
    /// A named capture group whose text is the observable (the whole match if `None`).
    pub group: Option<String>,
}

impl CustomIocType {
    pub fn new(name: impl Into<String>, regex: impl Into<String>, priority: u32) -> Self {
        CustomIocType {
            name: name.into(),
            regex: regex.into(),
            priority,
            group: None,
        }
    }
}

/// Extraction options. The defaults are MSTICPy's `extract_df` defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Types to look for, by name or alias (custom types by their name; `file_hash` means
    /// the three hash types). `None` or empty means every type except the paths (and
    /// custom types are included).
    pub ioc_types: Option<Vec<String>>,
    /// With the default type set, also look for `windows_path` (MSTICPy's
    /// `include_paths`); `linux_path` is only ever found when asked for by name.
    pub include_paths: bool,
    /// Keep domains whatever their top-level domain (MSTICPy's `ignore_tlds`).
    pub ignore_tlds: bool,
    /// Also match defanged spellings (`hxxp`, `[.]`, `[at]` …); MSTICPy's `defanged`,
    /// on by default. When off, only plain indicators are matched.
    pub defanged: bool,
    /// Report defanged observables in their plain form (`evil[.]com` → `evil.com`).
    pub refang: bool,
    pub custom_types: Vec<CustomIocType>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            ioc_types: None,
            include_paths: false,
            ignore_tlds: false,
            defanged: true,
            refang: false,
            custom_types: Vec::new(),
        }
    }
}

/// What went wrong setting up or running an extraction.
#[derive(Debug, thiserror::Error)]
pub enum IocError {
    #[error("unknown IoC type `{name}`; known types: {known}")]
    UnknownType { name: String, known: String },
    #[error("custom IoC type `{name}` has an invalid regex: {message}. Custom regexes use Rust `regex` syntax (no look-around or back-references)")]
    InvalidRegex { name: String, message: String },
    #[error("custom IoC type `{name}` uses a built-in type name; give it another name")]
    ReservedName { name: String },
    #[error("custom IoC type `{name}` is defined twice; keep one definition")]
    DuplicateName { name: String },
    #[error("custom IoC type `{name}`: its regex has no capture group named `{group}`")]
    UnknownGroup { name: String, group: String },
    #[error("building the combined IoC pattern failed: {0}")]
    Build(String),
    #[error("no input columns given; name at least one text column to scan")]
    NoColumns,
    #[error("column `{column}` is not in the input table (columns present: {available}); pass one of these names")]
    MissingColumn { column: String, available: String },
    #[error("column `{column}` has type {data_type}; IoC extraction reads text columns (Utf8 or LargeUtf8): cast it to a string first")]
    NotText { column: String, data_type: String },
    #[error("building the IoC result table failed: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_parse_to_canonical_names() {
        for (alias, canon) in [
            ("sha256", "sha256_hash"),
            ("SHA1", "sha1_hash"),
            ("md5", "md5_hash"),
            ("ip", "ipv4"),
            ("ip6", "ipv6"),
            ("domain", "dns"),
            ("hostname", "dns"),
            ("winpath", "windows_path"),
            ("linux-path", "linux_path"),
            ("url", "url"),
            ("mail", "email"),
        ] {
            assert_eq!(IocType::from_name(alias).unwrap().name(), canon, "{alias}");
        }
        assert_eq!(IocType::from_name("sha512"), None);
    }

    #[test]
    fn builtin_indices_follow_msticpy_order() {
        assert_eq!(BUILTIN_TYPES[T_IPV4], IocType::Ipv4);
        assert_eq!(BUILTIN_TYPES[T_IPV6], IocType::Ipv6);
        assert_eq!(BUILTIN_TYPES[T_DNS], IocType::Dns);
        assert_eq!(BUILTIN_TYPES[T_URL], IocType::Url);
        assert_eq!(BUILTIN_TYPES[T_EMAIL], IocType::Email);
        assert_eq!(BUILTIN_TYPES[T_WINDOWS_PATH], IocType::WindowsPath);
        assert_eq!(BUILTIN_TYPES[T_LINUX_PATH], IocType::LinuxPath);
        assert_eq!(BUILTIN_TYPES[T_MD5], IocType::Md5Hash);
        assert_eq!(BUILTIN_TYPES[T_SHA1], IocType::Sha1Hash);
        assert_eq!(BUILTIN_TYPES[T_SHA256], IocType::Sha256Hash);
        assert_eq!(BUILTIN_TYPES.len(), BUILTIN_COUNT);
        for t in BUILTIN_TYPES {
            assert_eq!(IocType::from_name(t.name()), Some(t.clone()));
        }
    }

    #[test]
    fn priorities_are_msticpys() {
        assert_eq!(IocType::Url.builtin_priority(), Some(0));
        assert_eq!(IocType::Email.builtin_priority(), Some(1));
        assert_eq!(IocType::Md5Hash.builtin_priority(), Some(1));
        assert_eq!(IocType::Dns.builtin_priority(), Some(2));
        assert_eq!(IocType::WindowsPath.builtin_priority(), Some(3));
        assert_eq!(IocType::LinuxPath.builtin_priority(), Some(4));
        assert_eq!(IocType::Custom("x".into()).builtin_priority(), None);
    }
}
