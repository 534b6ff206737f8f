//! How a subcommand ends: one of the exit codes below, so scripts can tell "no" from "could not ask", and
//! the failure that says why.

use crate::aws::error::AwsError;
use crate::aws::sdk::NoRegion;

/// Success: valid, sent, deployed, shown, no differences, healthy.
pub const EXIT_OK: u8 = 0;
/// The answer is no: invalid message, failed deployment, differences found, unhealthy worker.
pub const EXIT_NO: u8 = 1;
/// Wrong usage: a bad or missing argument, variable or file.
pub const EXIT_USAGE: u8 = 2;
/// AWS could not be reached or refused (unreachable endpoint, missing queue or service, access denied).
pub const EXIT_AWS: u8 = 3;
/// `send --wait` gave up: no outcome within `--timeout`.
pub const EXIT_NO_OUTCOME: u8 = 4;

/// Why a subcommand stopped, and the exit code that says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// One of the `EXIT_*` codes.
    pub exit: u8,
    /// What went wrong, naming the argument, variable, file or AWS call.
    pub message: String,
}

impl Failure {
    /// A wrong argument, variable or file.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// The answer is no.
    pub fn no(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_NO,
            message: message.into(),
        }
    }

    /// AWS could not be reached or refused.
    pub fn aws(message: impl Into<String>) -> Self {
        Self {
            exit: EXIT_AWS,
            message: message.into(),
        }
    }
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Self::aws(e.to_string())
    }
}

impl From<NoRegion> for Failure {
    fn from(e: NoRegion) -> Self {
        Self::usage(e.to_string())
    }
}
