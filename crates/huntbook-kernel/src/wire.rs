//! The Jupyter wire protocol (v5.3): how a [`Message`] becomes ZeroMQ frames and back.
//!
//! A message on the wire is a multipart ZeroMQ message:
//!
//! ```text
//! [identity…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffer…]
//! ```
//!
//! The four JSON frames are signed with HMAC-SHA256 under the connection key and the
//! signature is sent as lower-case hex. A frame set whose signature does not verify is
//! rejected with [`WireError::BadSignature`]; the caller warns and drops it, so a stray
//! or forged message can never crash or confuse a run. With an empty key nothing is
//! signed or checked, as the protocol specifies.

use hmac::{KeyInit, Mac};
use serde_json::{json, Value};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const DELIMITER: &[u8] = b"<IDS|MSG>";

/// The protocol version put in every header we send.
pub const PROTOCOL_VERSION: &str = "5.3";

/// One Jupyter message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Routing frames before the delimiter (the topic, on IOPub).
    pub identities: Vec<Vec<u8>>,
    /// `{msg_id, session, username, date, msg_type, version}`.
    pub header: Value,
    /// The header of the request this message answers, or `{}`.
    pub parent_header: Value,
    /// Free-form metadata.
    pub metadata: Value,
    /// The message body, whose shape depends on `msg_type`.
    pub content: Value,
    /// Binary buffers (used by widgets), passed through untouched.
    pub buffers: Vec<Vec<u8>>,
}

impl Message {
    /// A new request of `msg_type` in `session`, stamped now.
    pub fn new(msg_type: &str, session: &str, content: Value) -> Message {
        let username = std::env::var("USER").unwrap_or_else(|_| "huntbook".to_string());
        Message {
            identities: Vec::new(),
            header: json!({
                "msg_id": uuid::Uuid::new_v4().to_string(),
                "session": session,
                "username": username,
                "date": now_rfc3339(),
                "msg_type": msg_type,
                "version": PROTOCOL_VERSION,
            }),
            parent_header: json!({}),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// `header.msg_type`, or `""`.
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// `header.msg_id`, or `""`.
    pub fn msg_id(&self) -> &str {
        self.header["msg_id"].as_str().unwrap_or("")
    }

    /// `parent_header.msg_id`, when this message answers a request.
    pub fn parent_msg_id(&self) -> Option<&str> {
        self.parent_header["msg_id"].as_str()
    }

    /// `header.date` as the kernel wrote it, or `""`.
    pub fn date(&self) -> &str {
        self.header["date"].as_str().unwrap_or("")
    }
}

/// The current time as Jupyter writes it: RFC 3339, UTC, microseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Why received frames were not accepted as a message.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    /// No `<IDS|MSG>` frame.
    #[error("no <IDS|MSG> delimiter in a {0}-frame message")]
    NoDelimiter(usize),
    /// Fewer than the five frames that must follow the delimiter.
    #[error("message truncated: {0} frames after the delimiter, 5 needed")]
    Truncated(usize),
    /// The HMAC did not match: not from our kernel, or corrupted.
    #[error("bad message signature")]
    BadSignature,
    /// A JSON frame did not parse.
    #[error("invalid JSON in the {frame} frame: {error}")]
    BadJson {
        /// Which frame.
        frame: &'static str,
        /// The parse error.
        error: String,
    },
}

/// Signs and verifies messages with the connection key.
#[derive(Clone)]
pub struct Signer {
    mac: Option<HmacSha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Signer")
            .field("signed", &self.mac.is_some())
            .finish()
    }
}

impl Signer {
    /// A signer for `key`; an empty key disables signing.
    pub fn new(key: &str) -> Signer {
        let mac = (!key.is_empty()).then(|| {
            HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length")
        });
        Signer { mac }
    }

    fn mac_of(&self, parts: &[&[u8]]) -> Option<HmacSha256> {
        let mut mac = self.mac.clone()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }

    fn sign(&self, parts: &[&[u8]]) -> String {
        self.mac_of(parts)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    fn verify(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        let Some(mac) = self.mac_of(parts) else {
            return true;
        };
        // Constant-time comparison, done by the MAC itself.
        match hex::decode(signature) {
            Ok(bytes) => mac.verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    /// The frames of `msg`, signed.
    pub fn encode(&self, msg: &Message) -> Vec<Vec<u8>> {
        let json_frames = [
            msg.header.to_string().into_bytes(),
            msg.parent_header.to_string().into_bytes(),
            msg.metadata.to_string().into_bytes(),
            msg.content.to_string().into_bytes(),
        ];
        let parts: Vec<&[u8]> = json_frames.iter().map(Vec::as_slice).collect();
        let signature = self.sign(&parts);
        let mut frames = msg.identities.clone();
        frames.push(DELIMITER.to_vec());
        frames.push(signature.into_bytes());
        frames.extend(json_frames);
        frames.extend(msg.buffers.iter().cloned());
        frames
    }

    /// Parses and verifies received frames.
    pub fn decode<F: AsRef<[u8]>>(&self, frames: &[F]) -> Result<Message, WireError> {
        let delim = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::NoDelimiter(frames.len()))?;
        let rest = &frames[delim + 1..];
        if rest.len() < 5 {
            return Err(WireError::Truncated(rest.len()));
        }
        let parts: Vec<&[u8]> = rest[1..5].iter().map(AsRef::as_ref).collect();
        if !self.verify(&parts, rest[0].as_ref()) {
            return Err(WireError::BadSignature);
        }
        let parse = |frame: &'static str, bytes: &[u8]| {
            serde_json::from_slice::<Value>(bytes).map_err(|e| WireError::BadJson {
                frame,
                error: e.to_string(),
            })
        };
        Ok(Message {
            identities: frames[..delim]
                .iter()
                .map(|f| f.as_ref().to_vec())
                .collect(),
            header: parse("header", parts[0])?,
            parent_header: parse("parent_header", parts[1])?,
            metadata: parse("metadata", parts[2])?,
            content: parse("content", parts[3])?,
            buffers: rest[5..].iter().map(|f| f.as_ref().to_vec()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_protocol_fields() {
        let msg = Message::new("execute_request", "sess", json!({"code": "1"}));
        for key in [
            "msg_id", "session", "username", "date", "msg_type", "version",
        ] {
            assert!(msg.header[key].is_string(), "missing {key}");
        }
        assert_eq!(msg.header["version"], "5.3");
        assert_eq!(msg.msg_type(), "execute_request");
        let date = chrono::DateTime::parse_from_rfc3339(msg.date()).unwrap();
        assert_eq!(date.offset().local_minus_utc(), 0);
        assert!(msg.date().ends_with('Z'));
    }

    #[test]
    fn round_trip_with_identities_and_buffers() {
        let signer = Signer::new("secret");
        let mut msg = Message::new("comm_msg", "s", json!({"a": [1, 2]}));
        msg.identities = vec![b"kernel.abc.status".to_vec()];
        msg.parent_header = json!({"msg_id": "p1"});
        msg.buffers = vec![vec![0, 1, 2]];
        let frames = signer.encode(&msg);
        assert_eq!(frames[1], DELIMITER);
        assert_eq!(frames[2].len(), 64);
        let back = signer.decode(&frames).unwrap();
        assert_eq!(back, msg);
        assert_eq!(back.parent_msg_id(), Some("p1"));
    }

    #[test]
    fn known_signature() {
        // HMAC-SHA256("key", "{}{}{}{}") computed with Python's hmac module.
        let signer = Signer::new("key");
        let parts: [&[u8]; 4] = [b"{}", b"{}", b"{}", b"{}"];
        assert_eq!(
            signer.sign(&parts),
            "ca767b02c5bc061ed184a9a029e7f93a7f2f7ed4e8fe74120fc1212f0b008fa3"
        );
        assert!(signer.verify(&parts, signer.sign(&parts).as_bytes()));
    }

    #[test]
    fn tampered_or_foreign_messages_are_rejected() {
        let ours = Signer::new("secret");
        let msg = Message::new("status", "s", json!({"execution_state": "idle"}));
        let mut frames = ours.encode(&msg);
        assert_eq!(
            Signer::new("other").decode(&frames),
            Err(WireError::BadSignature)
        );
        frames[5] = br#"{"execution_state": "busy"}"#.to_vec();
        assert_eq!(ours.decode(&frames), Err(WireError::BadSignature));
        frames[1] = b"not-hex".to_vec();
        assert!(ours.decode(&frames).is_err());
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let signer = Signer::new("");
        let no_delim: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec()];
        assert_eq!(signer.decode(&no_delim), Err(WireError::NoDelimiter(2)));
        let short: Vec<&[u8]> = vec![DELIMITER, b"", b"{}"];
        assert_eq!(signer.decode(&short), Err(WireError::Truncated(2)));
        let bad_json: Vec<&[u8]> = vec![DELIMITER, b"", b"{", b"{}", b"{}", b"{}"];
        assert!(matches!(
            signer.decode(&bad_json),
            Err(WireError::BadJson {
                frame: "header",
                ..
            })
        ));
        // Unsigned messages are accepted with an empty key.
        let ok: Vec<&[u8]> = vec![DELIMITER, b"", b"{}", b"{}", b"{}", b"{}"];
        assert!(signer.decode(&ok).is_ok());
    }
}
