//! Base64 and archive unpacking (being written): finds base64 in free text, decodes it
//! (nested), unpacks zip/gzip/tar members, with MSTICPy's `base64unpack` columns.
//!
//! [`corpus`] generates the synthetic encoded payloads the decoder is measured on.

pub mod corpus;
