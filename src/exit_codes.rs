//! Exit codes are part of the CI contract, so they live in one enum and never change meaning.

/// What a run of `unleak` tells its caller through the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing found (scan, audit, verify), or every playbook step done.
    Clean = 0,
    /// A leak was found, or playbook steps were left undone.
    Found = 1,
    /// The run could not do its job: bad input, bad flags, an I/O or git error.
    Error = 2,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
