//! Shared key/value memory in `memory_entries` (being written).
