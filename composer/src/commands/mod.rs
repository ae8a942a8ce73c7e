//! One module per subcommand: its clap arguments and its `run`. They do not
//! import each other: what they share is in [`crate::prepare`].

pub mod check;
pub mod compose;
pub mod inspect;
pub mod lock;
pub mod publish;
#[cfg(feature = "host")]
pub mod run;
