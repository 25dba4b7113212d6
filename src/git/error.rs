//! What can go wrong behind the git door, as kinds a caller can tell apart (the repository is not
//! there, not one, not ours to open, damaged; a file or libgit2 or the git program failed), each with
//! the message a user reads. Callers above add their own context with `anyhow`.

use std::path::PathBuf;

/// A failure inside `git/`. Its text is the message shown; where the cause is another error (an I/O
/// error), it is the error's `source`, so `{:#}` through `anyhow` prints "context: cause".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path given does not exist.
    #[error("{} does not exist", .0.display())]
    NoSuchPath(PathBuf),
    /// No repository at or above the path.
    #[error(
        "{} is not in a git repository (no .git found here or above); pass the repository's path",
        .0.display()
    )]
    NotARepository(PathBuf),
    /// Git refuses a repository another user owns, whose config could run programs as us.
    #[error(
        "cannot open the repository at {}: {message}. Git refuses a repository owned by another user, \
         whose config could run programs as you. If you trust it, mark it safe with \
         `git config --global --add safe.directory <its path>` (the path in the message), or run \
         unleak as the repository's owner",
        .path.display()
    )]
    NotOwned {
        /// The path the user gave.
        path: PathBuf,
        /// libgit2's words (they name the path it checked).
        message: String,
    },
    /// A SHA-256 repository, found in its config (`detail` None) or refused by libgit2 (its words).
    #[error("{}", sha256_text(.path, .detail.as_deref()))]
    Sha256 {
        /// The path the user gave.
        path: PathBuf,
        /// libgit2's words, when it refused the repository itself.
        detail: Option<String>,
    },
    /// libgit2 would not open the repository, for another reason.
    #[error("cannot open the repository at {}: {message}", .path.display())]
    CannotOpen {
        /// The path the user gave.
        path: PathBuf,
        /// libgit2's words.
        message: String,
    },
    /// A file read whole is a FIFO or a device: reading it would hang or fill memory.
    #[error(
        "{} is not a regular file (a FIFO or a device would hang the read); remove or repair it",
        .0.display()
    )]
    SpecialFile(PathBuf),
    /// A pack or pack index that is not what it says (not a regular file, truncated, corrupt, an
    /// unsupported version, or not the pack its index describes): its objects cannot be read by us.
    #[error("{0}")]
    Damaged(String),
    /// A file or directory could not be read, written or created: `context` says which.
    #[error("{context}")]
    Io {
        /// What was being done, on which path.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A private file could not be created or written (`util::fs`'s error says which, and at which
    /// step).
    #[error(transparent)]
    Write(#[from] crate::util::fs::WriteError),
    /// An I/O failure with nothing to add (the current directory is gone).
    #[error(transparent)]
    BareIo(#[from] std::io::Error),
    /// libgit2 failed, while doing `context` when there is one. Shown as libgit2 shows itself (its
    /// class and code included); [`Error::message`] is its message alone.
    #[error("{}", libgit2_text(.context.as_deref(), .error))]
    Libgit2 {
        /// What was being done.
        context: Option<String>,
        /// libgit2's error (not a `source`: its text is already in this one's).
        error: git2::Error,
    },
    /// Bytes or text that are not an object id (in a pack index).
    #[error(transparent)]
    Oid(#[from] super::oid::OidError),
    /// The git program was stopped, took too long, or failed: the text says which and how.
    #[error("{0}")]
    Command(String),
    /// What the door will not do (clone through a transport that runs a command): the text says why.
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// libgit2's failure while doing `context`.
    pub(crate) fn libgit2(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |error| Error::Libgit2 {
            context: Some(context),
            error,
        }
    }

    /// An I/O failure while doing `context`.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    /// The message alone: for a libgit2 failure, libgit2's message without its class and code (and
    /// without the context); otherwise the error's text.
    pub(crate) fn message(&self) -> String {
        match self {
            Error::Libgit2 { error, .. } => error.message().to_string(),
            other => other.to_string(),
        }
    }

    /// This error (not its sources) in plain words: a libgit2 failure's `; class=Config (7);
    /// code=NotFound (-3)` tail says nothing to a user, nor does the period libgit2 ends with.
    pub fn plain(&self) -> String {
        match self {
            Error::Libgit2 { context, error } => {
                let message = error.message().trim_end_matches('.');
                match context {
                    Some(context) => format!("{context}: {message}"),
                    None => message.to_string(),
                }
            }
            other => other.to_string(),
        }
    }
}

impl From<git2::Error> for Error {
    fn from(error: git2::Error) -> Error {
        Error::Libgit2 {
            context: None,
            error,
        }
    }
}

fn libgit2_text(context: Option<&str>, error: &git2::Error) -> String {
    match context {
        Some(context) => format!("{context}: {error}"),
        None => error.to_string(),
    }
}

fn sha256_text(path: &std::path::Path, detail: Option<&str>) -> String {
    match detail {
        None => format!(
            "{} uses SHA-256 object ids, which unleak cannot read yet",
            path.display()
        ),
        Some(detail) => format!(
            "{} uses SHA-256 object ids ({detail}), which unleak does not support yet; nothing was read",
            path.display()
        ),
    }
}

/// `err` and its sources joined by ": ", as `anyhow`'s `{:#}` prints a chain (for the notes the
/// door writes itself, such as a pack read another way).
pub(crate) fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// What the door's fallible calls return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The words users read did not change when the door's errors became an enum: the texts below are
    /// the ones `anyhow` printed before.
    #[test]
    fn messages_are_the_ones_users_read() {
        let path = PathBuf::from("/srv/x");
        let owned = Error::NotOwned {
            path: path.clone(),
            message: "repository path '/srv/x/' is not owned by current user".into(),
        };
        assert_eq!(
            owned.to_string(),
            "cannot open the repository at /srv/x: repository path '/srv/x/' is not owned by current \
             user. Git refuses a repository owned by another user, whose config could run programs as \
             you. If you trust it, mark it safe with `git config --global --add safe.directory <its \
             path>` (the path in the message), or run unleak as the repository's owner"
        );
        let config = Error::Sha256 {
            path: path.clone(),
            detail: None,
        };
        assert_eq!(
            config.to_string(),
            "/srv/x uses SHA-256 object ids, which unleak cannot read yet"
        );
        let refused = Error::Sha256 {
            path,
            detail: Some("unsupported object format".into()),
        };
        assert_eq!(
            refused.to_string(),
            "/srv/x uses SHA-256 object ids (unsupported object format), which unleak does not support \
             yet; nothing was read"
        );
    }

    /// A libgit2 failure reads as `anyhow`'s `{:#}` read "context: libgit2's error", and in plain
    /// words as the context and libgit2's message alone, without its class, code or final period.
    #[test]
    fn a_libgit2_failure_keeps_its_context_and_drops_its_code_in_plain_words() {
        let error = git2::Error::new(
            git2::ErrorCode::NotFound,
            git2::ErrorClass::Reference,
            "reference 'refs/heads/x' not found.",
        );
        let full = format!("cannot list refs: {error}");
        let err = Error::libgit2("cannot list refs")(error);
        assert_eq!(err.to_string(), full);
        assert_eq!(
            err.plain(),
            "cannot list refs: reference 'refs/heads/x' not found"
        );
        assert_eq!(err.message(), "reference 'refs/heads/x' not found.");
        let io = Error::io("cannot read pack index /p.idx")(std::io::Error::other("gone"));
        assert_eq!(chain_text(&io), "cannot read pack index /p.idx: gone");
    }
}
