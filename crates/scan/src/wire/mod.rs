//! The TLS wire as the scanner writes and reads it.

pub mod flight;
pub mod hello;
