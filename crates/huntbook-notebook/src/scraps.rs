//! Scraps (being written).
