//! What the user permits the guest: arguments, environment, directories,
//! network, outgoing HTTP, and where its standard streams go.

use std::path::PathBuf;

/// What the host grants one run, on WASI 0.2 and 0.3 alike. `Default` grants
/// nothing beyond the interfaces that are always permitted (stdio, `wasi:io`,
/// clocks, random, environment, exit),
/// with an empty environment, no arguments, empty stdin and captured output;
/// [`HostConfig::command`] is what `airlock run` starts from.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// The guest's argv, including argv\[0\] (conventionally the program name).
    pub args: Vec<String>,
    /// Environment variables the guest sees.
    pub env: Vec<(String, String)>,
    /// Names of host environment variables passed through when set (after `env`).
    pub inherit_env: Vec<String>,
    /// Preopened directories; `wasi:filesystem/*` is linked only when this is
    /// non-empty (or with [`HostConfig::link_empty`]).
    pub dirs: Vec<Preopen>,
    /// Link `wasi:sockets/*`, with TCP, UDP and name lookup turned on.
    pub allow_net: bool,
    /// Link `wasi:filesystem/*` and `wasi:sockets/*` whenever the component
    /// imports them, as `wasmtime run` does: with no preopens unless `dirs`
    /// names some, and with no network unless `allow_net` (every address is
    /// refused, name lookup included). Off (the default, for tests): they are
    /// refused unless permitted, so an unexpected import fails loudly.
    pub link_empty: bool,
    /// Link `wasi:http/outgoing-handler` (0.2), `wasi:http/client` (0.3) and
    /// `wasi:http/types`.
    pub allow_http: bool,
    /// The guest's standard input.
    pub stdin: Stdin,
    /// The guest's standard output.
    pub stdout: Output,
    /// The guest's standard error.
    pub stderr: Output,
}

/// A host directory the guest may open, under the name `guest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The directory on the host.
    pub host: PathBuf,
    /// The name the guest sees (e.g. `/data` or `.`).
    pub guest: String,
    /// Only reads are permitted.
    pub read_only: bool,
}

/// Where the guest's standard input comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Stdin {
    /// Empty: the guest reads end-of-file at once.
    #[default]
    Empty,
    /// The host process's stdin.
    Inherit,
    /// These bytes, then end-of-file.
    Bytes(Vec<u8>),
}

/// Where a guest's output stream goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Output {
    /// Kept in memory and returned in the outcome.
    #[default]
    Capture,
    /// Written to the host process's stream.
    Inherit,
    /// Discarded.
    Discard,
}

impl HostConfig {
    /// A config for a command run from the terminal: stdio inherited, `argv[0]` = `program`.
    pub fn inherit_stdio(program: impl Into<String>) -> Self {
        Self {
            args: vec![program.into()],
            stdin: Stdin::Inherit,
            stdout: Output::Inherit,
            stderr: Output::Inherit,
            ..Self::default()
        }
    }

    /// What `airlock run` starts from, like `wasmtime run`: stdio inherited,
    /// `argv[0]` = `program`, an empty environment, and the filesystem and
    /// sockets linked when imported, with nothing in them ([`HostConfig::link_empty`]).
    pub fn command(program: impl Into<String>) -> Self {
        Self {
            link_empty: true,
            ..Self::inherit_stdio(program)
        }
    }
}
