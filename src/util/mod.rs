//! One of each small helper the rest of unleak shares; std (and tempfile) only, nothing of ours.

pub(crate) mod fs;
pub(crate) mod shell;
pub(crate) mod text;
pub mod time;
