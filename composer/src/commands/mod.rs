//! One module per subcommand: its clap arguments and its `run`.

pub mod check;
pub mod compose;
pub mod inspect;
pub mod lock;
pub mod publish;
#[cfg(feature = "host")]
pub mod run;
