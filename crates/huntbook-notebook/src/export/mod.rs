//! HTML export (being written).
