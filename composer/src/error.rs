//! The command line's error: the pipeline's, the registry's and the lock's,
//! and the command line's own (usage, a caught panic), each with its exit code.

use airlock_core::error::EXIT_POLICY;
use airlock_registry::RegistryError;
use airlock_registry::lock::LockError;

/// Anything that stops a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline stopped (manifest, inspection, policy, composition, verification, writing).
    #[error(transparent)]
    Core(#[from] airlock_core::error::Error),
    /// A registry, a package reference or the cache failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The lock file cannot be used, or a component goes beyond it.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The command line does not make sense (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A bug: something panicked. Reported instead of crashing.
    #[error("internal error (a bug in airlock, please report it): {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code: 2 for usage, 3 when the policy cannot be met, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Core(e) => e.exit_code(),
            Error::Usage(_) => 2,
            Error::Lock(LockError::CapabilitiesAdded { .. }) => EXIT_POLICY,
            Error::Registry(_) | Error::Lock(_) | Error::Internal(_) => 1,
        }
    }
}

impl From<airlock_registry::Error> for Error {
    fn from(e: airlock_registry::Error) -> Self {
        match e {
            airlock_registry::Error::Core(e) => Error::Core(e),
            airlock_registry::Error::Registry(e) => Error::Registry(e),
            airlock_registry::Error::Lock(e) => Error::Lock(e),
        }
    }
}

impl From<airlock_core::inspect::InspectError> for Error {
    fn from(e: airlock_core::inspect::InspectError) -> Self {
        Error::Core(airlock_core::error::Error::Inspect(vec![e]))
    }
}

/// The pipeline's own errors convert through [`airlock_core::error::Error`].
macro_rules! via_core {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Core(e.into())
            }
        }
    )*};
}
via_core!(
    airlock_core::manifest::ManifestError,
    airlock_core::spec::SpecError,
    airlock_core::plan::PolicyError,
    airlock_core::compose::ComposeError,
    airlock_core::verify::VerifyError,
);
