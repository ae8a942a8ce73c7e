//! The library's error type: one variant per pipeline step, each naming the
//! file or the thing at fault.

use std::path::PathBuf;

/// Exit code for "the policy cannot be met" (documented in the CLI help).
pub const EXIT_POLICY: i32 = 3;

/// Anything that stops a composition.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest could not be read or parsed.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// The manifest or flags do not hold together.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    /// Component files that cannot be used (every one is listed).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Inspect(Vec<crate::inspect::InspectError>),
    /// Renaming imports to normalised versions failed.
    #[error("cannot normalise the import versions of `{path}`: {message}")]
    Normalize {
        /// The component file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The policy cannot be met.
    #[error(transparent)]
    Policy(#[from] crate::plan::PolicyError),
    /// A denial component could not be synthesized.
    #[error("cannot virtualize the denied imports of `{instance}`: {source:#}")]
    Virtualize {
        /// The instance whose denied imports could not be served.
        instance: String,
        /// What went wrong, with its chain of causes.
        #[source]
        source: anyhow::Error,
    },
    /// wac-graph refused the composition.
    #[error(transparent)]
    Compose(#[from] crate::compose::ComposeError),
    /// The output failed verification; nothing is written.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    /// The output could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The output path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error: 3 when the policy cannot be met,
    /// 2 for a `--set` naming nothing, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Policy(_) => EXIT_POLICY,
            Error::Manifest(crate::manifest::ManifestError::UnknownSetTarget { .. })
            | Error::Spec(crate::spec::SpecError::UnknownSetTarget { .. }) => 2,
            Error::Verify(
                crate::verify::VerifyError::OutsideAllowList(_)
                | crate::verify::VerifyError::BeyondGrants(_),
            ) => EXIT_POLICY,
            _ => 1,
        }
    }
}
