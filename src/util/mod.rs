//! One of each small helper the rest of unleak shares; std (and tempfile) only, nothing of ours.

pub mod fs;
pub mod shell;
pub mod text;
pub mod time;
