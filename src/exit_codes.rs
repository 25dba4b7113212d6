//! Exit codes are part of the CI contract, so they live in one enum and never change meaning.

/// What a run of `unleak` tells its caller through the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing found (scan, audit, verify), or every playbook step done.
    Clean = 0,
    /// A leak was found, or playbook steps were left undone.
    Found = 1,
    /// The run could not do its job: bad input, bad flags, an I/O or git error.
    Error,
    /// Nothing found, but not everything could be read (damaged or missing objects, a shallow clone):
    /// not a "clean". Same status as an error (2), so a CI gate fails closed.
    Incomplete,
    /// `verify` was given a token found nowhere here and named by no incident record: almost always
    /// the wrong token (the new one), so "clean" would be a false answer. Status 2.
    Unconfirmed,
}

impl ExitCode {
    /// The answer of scan, audit and verify: found (1) wins; else clean (0) only when the scan could
    /// read everything or the user accepted that it could not (`--allow-incomplete`); else incomplete (2).
    /// `allows_clean` is `Completeness::allows_clean` of the report.
    pub fn for_search(found: bool, allows_clean: bool) -> ExitCode {
        if found {
            ExitCode::Found
        } else if allows_clean {
            ExitCode::Clean
        } else {
            ExitCode::Incomplete
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(match code {
            ExitCode::Clean => 0,
            ExitCode::Found => 1,
            ExitCode::Error | ExitCode::Incomplete | ExitCode::Unconfirmed => 2,
        })
    }
}
