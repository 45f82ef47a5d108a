//! Column schemas for process events: which input column holds the process name, pid,
//! parent pid, time and the rest, for each log source MSTICPy knows, plus custom maps.
//!
//! A schema is plain data so that the Python and CLI faces can build one from a dict or
//! a name. Field names are MSTICPy's `ProcSchema` field names, so a dict written for
//! MSTICPy works unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ProcTreeError;

/// Where each process attribute lives in the input table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcSchema {
    /// Short name of a built-in schema (`"windows"`, `"sysmon"`, ...), empty for custom maps.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub process_name: String,
    pub process_id: String,
    pub parent_id: String,
    pub time_stamp: String,
    #[serde(default)]
    pub cmd_line: Option<String>,
    #[serde(default = "default_separator")]
    pub path_separator: String,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub logon_id: Option<String>,
    #[serde(default)]
    pub host_name_column: Option<String>,
    #[serde(default)]
    pub parent_name: Option<String>,
    #[serde(default)]
    pub target_logon_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub event_id_column: Option<String>,
    /// Value of `event_id_column` that marks a process-creation event, compared as text
    /// (so `4688` matches both an integer column and a string column).
    #[serde(default, deserialize_with = "de_identifier")]
    pub event_id_identifier: Option<String>,
}

fn default_separator() -> String {
    "\\".to_string()
}

/// MSTICPy dicts carry the event id as an int (4688, 1) or a string; both become text.
fn de_identifier<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        Some(other) => Some(other.to_string()),
    })
}

fn s(v: &str) -> String {
    v.to_string()
}
fn o(v: &str) -> Option<String> {
    Some(v.to_string())
}

impl ProcSchema {
    /// Windows security event 4688 (process creation), as collected by Sentinel.
    pub fn windows_4688() -> Self {
        ProcSchema {
            name: s("windows"),
            time_stamp: s("TimeGenerated"),
            process_name: s("NewProcessName"),
            process_id: s("NewProcessId"),
            parent_name: o("ParentProcessName"),
            parent_id: s("ProcessId"),
            logon_id: o("SubjectLogonId"),
            target_logon_id: o("TargetLogonId"),
            cmd_line: o("CommandLine"),
            user_name: o("SubjectUserName"),
            path_separator: s("\\"),
            user_id: o("SubjectUserSid"),
            event_id_column: o("EventID"),
            event_id_identifier: o("4688"),
            host_name_column: o("Computer"),
        }
    }

    /// Linux auditd `SYSCALL_EXECVE` events (see the `auditd` module).
    pub fn linux_auditd() -> Self {
        ProcSchema {
            name: s("linux"),
            time_stamp: s("TimeGenerated"),
            process_name: s("exe"),
            process_id: s("pid"),
            parent_name: None,
            parent_id: s("ppid"),
            logon_id: o("ses"),
            target_logon_id: None,
            cmd_line: o("cmdline"),
            user_name: o("acct"),
            path_separator: s("/"),
            user_id: o("uid"),
            event_id_column: o("EventType"),
            event_id_identifier: o("SYSCALL_EXECVE"),
            host_name_column: o("Computer"),
        }
    }

    /// Defender for Endpoint's internal process schema (`CreatedProcess*` columns).
    pub fn mde_internal() -> Self {
        ProcSchema {
            name: s("mde_internal"),
            time_stamp: s("CreatedProcessCreationTime"),
            process_name: s("CreatedProcessName"),
            process_id: s("CreatedProcessId"),
            parent_name: o("ParentProcessName"),
            parent_id: s("CreatedProcessParentId"),
            logon_id: o("InitiatingProcessLogonId"),
            target_logon_id: o("LogonId"),
            cmd_line: o("CreatedProcessCommandLine"),
            user_name: o("CreatedProcessAccountName"),
            path_separator: s("\\"),
            user_id: o("CreatedProcessAccountSid"),
            host_name_column: o("ComputerDnsName"),
            event_id_column: None,
            event_id_identifier: None,
        }
    }

    /// Defender `DeviceProcessEvents` (advanced hunting and Sentinel).
    pub fn mde() -> Self {
        ProcSchema {
            name: s("mde"),
            time_stamp: s("Timestamp"),
            process_name: s("FileName"),
            process_id: s("ProcessId"),
            parent_name: o("InitiatingProcessFileName"),
            parent_id: s("InitiatingProcessId"),
            logon_id: o("InitiatingProcessLogonId"),
            target_logon_id: o("LogonId"),
            cmd_line: o("ProcessCommandLine"),
            user_name: o("AccountName"),
            path_separator: s("\\"),
            user_id: o("AccountSid"),
            host_name_column: o("DeviceName"),
            event_id_column: o("ActionType"),
            event_id_identifier: o("ProcessCreated"),
        }
    }

    /// Sysmon event 1 (process create).
    pub fn sysmon() -> Self {
        ProcSchema {
            name: s("sysmon"),
            time_stamp: s("UtcTime"),
            process_name: s("Image"),
            process_id: s("ProcessId"),
            parent_name: o("ParentImage"),
            parent_id: s("ParentProcessId"),
            logon_id: o("LogonId"),
            target_logon_id: None,
            cmd_line: o("CommandLine"),
            user_name: o("User"),
            path_separator: s("\\"),
            user_id: None,
            event_id_column: o("EventID"),
            event_id_identifier: o("1"),
            host_name_column: o("Computer"),
        }
    }

    /// OSQuery `processes` / `process_events` results. As in MSTICPy the parent "name"
    /// is the parent's command line, and there is no host column.
    pub fn osquery() -> Self {
        ProcSchema {
            name: s("osquery"),
            time_stamp: s("calendarTime"),
            process_name: s("name"),
            process_id: s("pid"),
            parent_name: o("pcmdline"),
            parent_id: s("parent"),
            logon_id: None,
            target_logon_id: None,
            cmd_line: o("cmdline"),
            user_name: o("username"),
            path_separator: s("/"),
            user_id: o("uid"),
            event_id_column: None,
            event_id_identifier: None,
            host_name_column: None,
        }
    }

    /// FireEye HX `processEvent` audits.
    pub fn fireeye_hx() -> Self {
        ProcSchema {
            name: s("hx"),
            time_stamp: s("starttime"),
            process_name: s("process"),
            process_id: s("pid"),
            parent_name: o("parentprocess"),
            parent_id: s("parentpid"),
            logon_id: None,
            target_logon_id: None,
            cmd_line: o("processcmdline"),
            user_name: o("username"),
            path_separator: s("\\"),
            user_id: None,
            event_id_column: o("eventtype"),
            event_id_identifier: o("start"),
            host_name_column: o("hostname"),
        }
    }

    /// The built-in schemas in MSTICPy's order (the order decides ties in inference).
    pub fn builtin() -> Vec<ProcSchema> {
        vec![
            Self::windows_4688(),
            Self::linux_auditd(),
            Self::mde_internal(),
            Self::mde(),
            Self::sysmon(),
            Self::osquery(),
            Self::fireeye_hx(),
        ]
    }

    /// A built-in schema by name; accepts the short names and MSTICPy's constant names.
    pub fn by_name(name: &str) -> Result<ProcSchema, ProcTreeError> {
        let key = name.trim().to_ascii_lowercase().replace('-', "_");
        let schema = match key.as_str() {
            "windows" | "win" | "4688" | "win_event_sch" | "security" => Self::windows_4688(),
            "linux" | "auditd" | "lx" | "lx_event_sch" => Self::linux_auditd(),
            "mde_internal" | "mde_int" | "mde_int_event_sch" => Self::mde_internal(),
            "mde" | "deviceprocessevents" | "defender" | "mde_event_sch" => Self::mde(),
            "sysmon" | "sysmon_process_create_event_sch" => Self::sysmon(),
            "osquery" | "osquery_event_sch" => Self::osquery(),
            "hx" | "fireeye" | "fireeye_hx" | "hx_processevent_sch" => Self::fireeye_hx(),
            _ => {
                return Err(ProcTreeError::UnknownSchema {
                    name: name.to_string(),
                })
            }
        };
        Ok(schema)
    }

    /// A custom schema from a field → column map (MSTICPy's `ProcSchema(**dict)`).
    /// `process_name`, `process_id`, `parent_id` and `time_stamp` are required.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<ProcSchema, ProcTreeError> {
        let value = serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        );
        Self::from_json(&value)
    }

    /// A custom schema from a JSON object (what the Python face sends for a dict).
    pub fn from_json(value: &serde_json::Value) -> Result<ProcSchema, ProcTreeError> {
        serde_json::from_value(value.clone()).map_err(|e| ProcTreeError::BadSchema {
            detail: e.to_string(),
        })
    }

    /// The columns the builder reads to link processes (the name, pid, parent pid and
    /// time, and the host, parent name, logon ids and event id where the schema has
    /// them). The other input columns are only carried into the output.
    pub fn reads(&self) -> Vec<&str> {
        let mut cols = vec![
            self.process_name.as_str(),
            self.process_id.as_str(),
            self.parent_id.as_str(),
            self.time_stamp.as_str(),
        ];
        for c in [
            &self.host_name_column,
            &self.parent_name,
            &self.logon_id,
            &self.target_logon_id,
            &self.event_id_column,
        ]
        .into_iter()
        .flatten()
        {
            cols.push(c.as_str());
        }
        cols
    }

    /// The input columns this schema names (MSTICPy's `ProcSchema.columns`, without the
    /// separator and event id value, and without unset fields).
    pub fn columns(&self) -> Vec<&str> {
        let mut cols = self.reads();
        cols.extend(
            [&self.cmd_line, &self.user_name, &self.user_id]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        cols
    }
}

/// Pick the built-in schema sharing the most columns with `columns`; at least four must
/// match. On a tie the later schema in [`ProcSchema::builtin`] order wins, as in MSTICPy.
pub fn infer_schema<'a>(columns: impl IntoIterator<Item = &'a str>) -> Option<ProcSchema> {
    let present: std::collections::HashSet<&str> = columns.into_iter().collect();
    let mut best: Option<(usize, ProcSchema)> = None;
    for schema in ProcSchema::builtin() {
        let mut cols = schema.columns();
        cols.sort_unstable();
        cols.dedup();
        let overlap = cols.iter().filter(|c| present.contains(*c)).count();
        if best.as_ref().is_none_or(|(n, _)| overlap >= *n) {
            best = Some((overlap, schema));
        }
    }
    best.filter(|(n, _)| *n >= 4).map(|(_, s)| s)
}

/// `schema`, or else the one inferred from `columns` (an error naming them if none fits).
pub fn schema_for<'a>(
    schema: Option<&ProcSchema>,
    columns: impl IntoIterator<Item = &'a str>,
) -> Result<ProcSchema, ProcTreeError> {
    if let Some(s) = schema {
        return Ok(s.clone());
    }
    let columns: Vec<&str> = columns.into_iter().collect();
    infer_schema(columns.iter().copied()).ok_or_else(|| ProcTreeError::NoSchema {
        columns: columns.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_each_builtin_from_its_own_columns() {
        for schema in ProcSchema::builtin() {
            let inferred = infer_schema(schema.columns()).expect("a schema");
            assert_eq!(inferred.name, schema.name);
        }
    }

    #[test]
    fn inference_needs_four_columns() {
        assert!(infer_schema(["NewProcessName", "NewProcessId", "TimeGenerated"]).is_none());
        let s = infer_schema([
            "NewProcessName",
            "NewProcessId",
            "TimeGenerated",
            "ProcessId",
        ]);
        assert_eq!(s.unwrap().name, "windows");
    }

    #[test]
    fn sysmon_columns_pick_sysmon() {
        let cols = [
            "UtcTime",
            "Image",
            "ProcessId",
            "ParentImage",
            "ParentProcessId",
            "CommandLine",
            "User",
            "LogonId",
            "EventID",
            "Computer",
        ];
        assert_eq!(infer_schema(cols).unwrap().name, "sysmon");
    }

    #[test]
    fn custom_map_needs_the_four_core_fields() {
        let mut map = BTreeMap::new();
        map.insert("process_name".to_string(), "proc".to_string());
        map.insert("process_id".to_string(), "pid".to_string());
        map.insert("parent_id".to_string(), "ppid".to_string());
        let err = ProcSchema::from_map(&map).unwrap_err().to_string();
        assert!(err.contains("time_stamp"), "{err}");
        map.insert("time_stamp".to_string(), "ts".to_string());
        map.insert("event_id_identifier".to_string(), "start".to_string());
        let schema = ProcSchema::from_map(&map).unwrap();
        assert_eq!(schema.path_separator, "\\");
        assert_eq!(schema.event_id_identifier.as_deref(), Some("start"));
        map.insert("colour".to_string(), "x".to_string());
        assert!(ProcSchema::from_map(&map).is_err());
    }

    #[test]
    fn json_event_id_may_be_a_number() {
        let v = serde_json::json!({"process_name": "a", "process_id": "b", "parent_id": "c",
            "time_stamp": "d", "event_id_column": "EventID", "event_id_identifier": 4688});
        assert_eq!(
            ProcSchema::from_json(&v)
                .unwrap()
                .event_id_identifier
                .as_deref(),
            Some("4688")
        );
    }

    #[test]
    fn names_resolve() {
        assert_eq!(ProcSchema::by_name("Sysmon").unwrap(), ProcSchema::sysmon());
        assert_eq!(
            ProcSchema::by_name("WIN_EVENT_SCH").unwrap(),
            ProcSchema::windows_4688()
        );
        assert!(ProcSchema::by_name("nope")
            .unwrap_err()
            .to_string()
            .contains("nope"));
    }
}
