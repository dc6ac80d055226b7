//! The command line: serving (every setting a flag), and the tools.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use super::layer::{documented, Layer};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "agentgateway",
    version,
    about = "HTTPS REST gateway for contact-center agents (Huawei CC-Gateway compatible)"
)]
pub struct Cli {
    /// Settings file (TOML, kebab-case keys as the flags)
    #[arg(long, env = "AGW_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub layer: Layer,
    #[command(subcommand)]
    pub command: Option<Tool>,
}

impl Cli {
    /// The command with every setting's variable and default in its help.
    pub fn documented_command() -> clap::Command {
        documented(Cli::command())
    }

    /// Parses the process's arguments (exits with clap's message on an error).
    pub fn parse_documented() -> Cli {
        let matches = Cli::documented_command().get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Tools besides serving.
#[derive(Subcommand, Debug)]
pub enum Tool {
    /// Print the OpenAPI document
    Openapi,
    /// Hash a password for a directory file: asked for on a terminal (not echoed), else read from standard input
    HashPassword,
    /// Audit trail tools
    #[command(subcommand)]
    Audit(AuditTool),
    /// Print a completion script for a shell (e.g. `agentgateway completions bash > /etc/bash_completion.d/agentgateway`)
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

/// Audit trail tools.
#[derive(Subcommand, Debug)]
pub enum AuditTool {
    /// Check a trail: reports the first edited, removed or reordered record
    Verify {
        /// The audit file (its `.head` sidecar is read too)
        file: PathBuf,
        /// A head the gateway published earlier (`audit head: seq=SEQ hash=HASH` in its log, or the
        /// agentgateway_audit_head_* metrics): record SEQ must still carry HASH (at least 12 hex digits)
        #[arg(long = "anchor", value_name = "SEQ:HASH")]
        anchors: Vec<crate::audit::Anchor>,
    },
}
