//! The `preflight` command's subcommands as a library: the binary (`main.rs`) parses arguments
//! and calls them; the fuzz targets call the inventory import and the report writers directly.

pub mod command;
pub mod common;
pub mod output;
