//! Running code: [`Kernel::execute`] sends one `execute_request` and hands each output
//! of that request to a callback as an [`IopubEvent`] the moment it arrives.
//!
//! Nothing is buffered here: a cell that prints 500 MB costs this client one message
//! at a time, and the caller decides what to keep. The execution ends when both the
//! shell `execute_reply` and the IOPub `status: idle` for the request have arrived.
//! Around that, every wait is bounded:
//!
//! - the kernel dying at any point gives [`KernelError::Died`] within ~0.1 s;
//! - `timeout` expiring interrupts the kernel, waits `interrupt_grace` for it to
//!   settle (still delivering output, such as the `KeyboardInterrupt` traceback) and
//!   gives [`KernelError::Timeout`];
//! - after the reply, IOPub may lag behind (the kernel flushes output from another
//!   thread); each message for the request restarts an `iopub_grace` allowance and
//!   [`KernelError::IopubTimeout`] is returned when it runs out, so output is never
//!   cut short silently (papermill issue #426). Restarting the allowance, rather than
//!   nbclient's single fixed window, means a large but flowing output is never cut.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::kernel::{Channel, Kernel, Next};
use crate::process::describe_exit;
use crate::wire::Message;
use crate::KernelError;

/// How long to keep reading output already sent by a kernel that has just died.
const DEATH_DRAIN: Duration = Duration::from_millis(100);

/// Options for one [`Kernel::execute`].
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Time allowed for the execution (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Sent to the kernel: on error, abort requests queued behind this one.
    pub stop_on_error: bool,
    /// After the reply, how long IOPub may stay silent before the execution is
    /// declared incomplete (default 4 s, as nbclient's `iopub_timeout`).
    pub iopub_grace: Duration,
    /// After a timeout interrupt, how long to wait for the kernel to settle.
    pub interrupt_grace: Duration,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            timeout: None,
            stop_on_error: true,
            iopub_grace: Duration::from_secs(4),
            interrupt_grace: Duration::from_secs(5),
        }
    }
}

/// One IOPub message about the execution, as it arrived. Every variant carries `date`,
/// the kernel's own timestamp from the message header (RFC 3339), from which the
/// engine writes nbclient's `metadata.execution` timings.
#[derive(Debug, Clone, PartialEq)]
pub enum IopubEvent {
    /// Text on stdout or stderr (`name` is `"stdout"` or `"stderr"`).
    Stream {
        /// `stdout` or `stderr`.
        name: String,
        /// The text, possibly partial lines.
        text: String,
        /// The kernel's timestamp.
        date: String,
    },
    /// A rich output (`display(...)`).
    DisplayData {
        /// MIME type to content.
        data: Map<String, Value>,
        /// Per-MIME metadata.
        metadata: Map<String, Value>,
        /// `transient.display_id`, when the output may be updated later.
        display_id: Option<String>,
        /// The kernel's timestamp.
        date: String,
    },
    /// A replacement for earlier outputs with this `display_id`, in any cell.
    UpdateDisplayData {
        /// MIME type to content.
        data: Map<String, Value>,
        /// Per-MIME metadata.
        metadata: Map<String, Value>,
        /// Which outputs to update.
        display_id: String,
        /// The kernel's timestamp.
        date: String,
    },
    /// The value of the cell's last expression.
    ExecuteResult {
        /// The cell's execution count.
        execution_count: Option<i64>,
        /// MIME type to content.
        data: Map<String, Value>,
        /// Per-MIME metadata.
        metadata: Map<String, Value>,
        /// `transient.display_id`, if any.
        display_id: Option<String>,
        /// The kernel's timestamp.
        date: String,
    },
    /// An exception raised by the cell.
    Error {
        /// The exception's class name.
        ename: String,
        /// Its message.
        evalue: String,
        /// Formatted traceback lines (with ANSI colours).
        traceback: Vec<String>,
        /// The kernel's timestamp.
        date: String,
    },
    /// Clear the cell's outputs; with `wait`, only when the next output arrives.
    ClearOutput {
        /// Defer the clearing to the next output.
        wait: bool,
        /// The kernel's timestamp.
        date: String,
    },
    /// The kernel started executing the code.
    ExecuteInput {
        /// The cell's execution count.
        execution_count: Option<i64>,
        /// The kernel's timestamp.
        date: String,
    },
    /// The kernel became busy (`true`) or idle (`false`) for this request.
    Status {
        /// Busy or idle.
        busy: bool,
        /// The kernel's timestamp.
        date: String,
    },
}

impl IopubEvent {
    /// The kernel's timestamp of the message.
    pub fn date(&self) -> &str {
        match self {
            IopubEvent::Stream { date, .. }
            | IopubEvent::DisplayData { date, .. }
            | IopubEvent::UpdateDisplayData { date, .. }
            | IopubEvent::ExecuteResult { date, .. }
            | IopubEvent::Error { date, .. }
            | IopubEvent::ClearOutput { date, .. }
            | IopubEvent::ExecuteInput { date, .. }
            | IopubEvent::Status { date, .. } => date,
        }
    }

    /// The event for an IOPub message, or `None` for messages that are not about
    /// output (comms, `status: starting`, unknown types).
    pub(crate) fn from_message(msg: &Message) -> Option<IopubEvent> {
        let c = &msg.content;
        let date = msg.date().to_string();
        let text = |key: &str| c[key].as_str().unwrap_or("").to_string();
        let object = |v: &Value| v.as_object().cloned().unwrap_or_default();
        let display_id = || c["transient"]["display_id"].as_str().map(str::to_string);
        Some(match msg.msg_type() {
            "stream" => IopubEvent::Stream {
                name: text("name"),
                text: text("text"),
                date,
            },
            "display_data" => IopubEvent::DisplayData {
                data: object(&c["data"]),
                metadata: object(&c["metadata"]),
                display_id: display_id(),
                date,
            },
            "update_display_data" => IopubEvent::UpdateDisplayData {
                data: object(&c["data"]),
                metadata: object(&c["metadata"]),
                display_id: display_id()?,
                date,
            },
            "execute_result" => IopubEvent::ExecuteResult {
                execution_count: c["execution_count"].as_i64(),
                data: object(&c["data"]),
                metadata: object(&c["metadata"]),
                display_id: display_id(),
                date,
            },
            "error" => IopubEvent::Error {
                ename: text("ename"),
                evalue: text("evalue"),
                traceback: string_list(&c["traceback"]),
                date,
            },
            "clear_output" => IopubEvent::ClearOutput {
                wait: c["wait"].as_bool().unwrap_or(false),
                date,
            },
            "execute_input" => IopubEvent::ExecuteInput {
                execution_count: c["execution_count"].as_i64(),
                date,
            },
            "status" => match c["execution_state"].as_str() {
                Some("busy") => IopubEvent::Status { busy: true, date },
                Some("idle") => IopubEvent::Status { busy: false, date },
                _ => return None,
            },
            _ => return None,
        })
    }
}

/// How the kernel says the execution went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStatus {
    /// It ran to the end.
    Ok,
    /// It raised (including `sys.exit(...)` in ipykernel, with `ename` `SystemExit`).
    Error,
    /// It was not run because an earlier request failed with `stop_on_error`.
    Aborted,
}

/// The shell `execute_reply`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteReply {
    /// Ok, error or aborted.
    pub status: ReplyStatus,
    /// The execution count the kernel assigned, if any.
    pub execution_count: Option<i64>,
    /// The exception class, when `status` is `Error`.
    pub ename: Option<String>,
    /// The exception message, when `status` is `Error`.
    pub evalue: Option<String>,
    /// The traceback, when `status` is `Error` (empty otherwise).
    pub traceback: Vec<String>,
    /// The kernel's timestamp of the reply (`shell.execute_reply` in the timings).
    pub date: String,
}

impl ExecuteReply {
    /// Reads an `execute_reply`. An unknown status counts as an error, so that a
    /// kernel speaking a dialect we don't know cannot make a failure look like success.
    pub(crate) fn from_message(msg: &Message) -> ExecuteReply {
        let c = &msg.content;
        let status = match c["status"].as_str() {
            Some("ok") => ReplyStatus::Ok,
            Some("aborted") | Some("abort") => ReplyStatus::Aborted,
            _ => ReplyStatus::Error,
        };
        let is_error = status == ReplyStatus::Error;
        let field = |key: &str| {
            is_error
                .then(|| c[key].as_str().map(str::to_string))
                .flatten()
        };
        ExecuteReply {
            status,
            execution_count: c["execution_count"].as_i64(),
            ename: field("ename"),
            evalue: field("evalue"),
            traceback: if is_error {
                string_list(&c["traceback"])
            } else {
                Vec::new()
            },
            date: msg.date().to_string(),
        }
    }
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Kernel {
    /// Executes `code`, calling `on_event` for each IOPub message of this request as
    /// it arrives, and returns the kernel's reply. See the module documentation for
    /// how each wait is bounded; on every error, the events received so far have
    /// already been delivered. After [`KernelError::Timeout`] the kernel may still be
    /// busy: callers normally kill it.
    ///
    /// `on_event` may be a `&mut dyn FnMut(IopubEvent)`; with a concrete closure that
    /// is `Send`, the returned future is `Send` too and can be spawned.
    pub async fn execute<F>(
        &mut self,
        code: &str,
        opts: &ExecuteOptions,
        on_event: &mut F,
    ) -> Result<ExecuteReply, KernelError>
    where
        F: FnMut(IopubEvent) + ?Sized,
    {
        let request = Message::new(
            "execute_request",
            self.session(),
            json!({
                "code": code,
                "silent": false,
                "store_history": true,
                "user_expressions": {},
                "allow_stdin": false,
                "stop_on_error": opts.stop_on_error,
            }),
        );
        let id = request.msg_id().to_string();
        self.send(Channel::Shell, &request).await?;

        let mut timeout_at = opts.timeout.map(|t| Instant::now() + t);
        let mut interrupted_until: Option<Instant> = None;
        let mut quiet_until: Option<Instant> = None;
        let mut reply: Option<ExecuteReply> = None;
        let mut idle = false;
        loop {
            if idle {
                if let Some(reply) = reply.take() {
                    if interrupted_until.is_some() {
                        break;
                    }
                    return Ok(reply);
                }
            }
            let deadline = [timeout_at, interrupted_until, quiet_until]
                .into_iter()
                .flatten()
                .min();
            match self.next(deadline, true).await {
                Next::Iopub(msg) => {
                    if msg.parent_msg_id() != Some(id.as_str()) {
                        continue;
                    }
                    if let Some(event) = IopubEvent::from_message(&msg) {
                        idle |= matches!(event, IopubEvent::Status { busy: false, .. });
                        on_event(event);
                    }
                    if reply.is_some() {
                        quiet_until = Some(Instant::now() + opts.iopub_grace);
                    }
                }
                Next::Shell(msg) => {
                    if msg.parent_msg_id() == Some(id.as_str()) && msg.msg_type() == "execute_reply"
                    {
                        reply = Some(ExecuteReply::from_message(&msg));
                        // The code has finished: only the output may still be in flight.
                        timeout_at = None;
                        quiet_until = Some(Instant::now() + opts.iopub_grace);
                    }
                }
                Next::Control => {}
                Next::Exited(status) => {
                    self.deliver_last_words(&id, on_event).await;
                    return Err(KernelError::Died {
                        status: describe_exit(status),
                    });
                }
                Next::Deadline => {
                    let now = Instant::now();
                    if interrupted_until.is_some_and(|t| now >= t) {
                        break;
                    }
                    if timeout_at.is_some_and(|t| now >= t) {
                        timeout_at = None;
                        interrupted_until = Some(now + opts.interrupt_grace);
                        self.interrupt().await?;
                        continue;
                    }
                    if quiet_until.is_some_and(|t| now >= t) && interrupted_until.is_none() {
                        return Err(KernelError::IopubTimeout {
                            grace: opts.iopub_grace,
                        });
                    }
                }
            }
        }
        Err(KernelError::Timeout {
            after: opts.timeout.unwrap_or_default(),
        })
    }

    /// Delivers output the kernel sent just before it died (a last `print`, the
    /// beginning of a traceback), reading until the sockets go quiet.
    async fn deliver_last_words<F>(&mut self, id: &str, on_event: &mut F)
    where
        F: FnMut(IopubEvent) + ?Sized,
    {
        let stop = Instant::now() + DEATH_DRAIN * 5;
        loop {
            let quiet = (Instant::now() + DEATH_DRAIN).min(stop);
            match self.next(Some(quiet), false).await {
                Next::Iopub(msg) if msg.parent_msg_id() == Some(id) => {
                    if let Some(event) = IopubEvent::from_message(&msg) {
                        on_event(event);
                    }
                }
                Next::Deadline | Next::Exited(_) => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(msg_type: &str, content: Value) -> Message {
        let mut m = Message::new(msg_type, "s", content);
        m.header["date"] = json!("2024-05-01T10:00:00.000001Z");
        m
    }

    #[test]
    fn events_from_messages() {
        let e = IopubEvent::from_message(&msg("stream", json!({"name": "stdout", "text": "hi\n"})));
        assert_eq!(
            e,
            Some(IopubEvent::Stream {
                name: "stdout".into(),
                text: "hi\n".into(),
                date: "2024-05-01T10:00:00.000001Z".into()
            })
        );
        let e = IopubEvent::from_message(&msg(
            "display_data",
            json!({"data": {"text/plain": "x"}, "metadata": {}, "transient": {"display_id": "d1"}}),
        ))
        .unwrap();
        assert!(matches!(e, IopubEvent::DisplayData { display_id: Some(ref d), .. } if d == "d1"));
        // An update without a display_id cannot update anything.
        assert_eq!(
            IopubEvent::from_message(&msg(
                "update_display_data",
                json!({"data": {}, "metadata": {}})
            )),
            None
        );
        let e = IopubEvent::from_message(&msg(
            "execute_result",
            json!({"execution_count": 3, "data": {"text/plain": "2"}, "metadata": {}}),
        ))
        .unwrap();
        assert!(matches!(
            e,
            IopubEvent::ExecuteResult {
                execution_count: Some(3),
                display_id: None,
                ..
            }
        ));
        let e = IopubEvent::from_message(&msg(
            "error",
            json!({"ename": "ValueError", "evalue": "bad", "traceback": ["a", "b"]}),
        ))
        .unwrap();
        assert!(matches!(e, IopubEvent::Error { ref traceback, .. } if traceback.len() == 2));
        assert_eq!(
            IopubEvent::from_message(&msg("clear_output", json!({"wait": true})))
                .map(|e| e.date().to_string()),
            Some("2024-05-01T10:00:00.000001Z".to_string())
        );
        assert!(matches!(
            IopubEvent::from_message(&msg("status", json!({"execution_state": "idle"}))),
            Some(IopubEvent::Status { busy: false, .. })
        ));
        assert_eq!(
            IopubEvent::from_message(&msg("status", json!({"execution_state": "starting"}))),
            None
        );
        assert_eq!(IopubEvent::from_message(&msg("comm_open", json!({}))), None);
    }

    #[test]
    fn replies() {
        let ok = ExecuteReply::from_message(&msg(
            "execute_reply",
            json!({"status": "ok", "execution_count": 1, "ename": "ignored"}),
        ));
        assert_eq!(ok.status, ReplyStatus::Ok);
        assert_eq!(ok.execution_count, Some(1));
        assert_eq!(ok.ename, None);
        let err = ExecuteReply::from_message(&msg(
            "execute_reply",
            json!({"status": "error", "execution_count": 2, "ename": "E", "evalue": "v", "traceback": ["t"]}),
        ));
        assert_eq!(
            (err.ename.as_deref(), err.evalue.as_deref()),
            (Some("E"), Some("v"))
        );
        assert_eq!(err.traceback, ["t"]);
        let aborted =
            ExecuteReply::from_message(&msg("execute_reply", json!({"status": "aborted"})));
        assert_eq!(aborted.status, ReplyStatus::Aborted);
        assert_eq!(aborted.execution_count, None);
        let odd = ExecuteReply::from_message(&msg("execute_reply", json!({"status": "weird"})));
        assert_eq!(odd.status, ReplyStatus::Error);
    }
}
