//! One of each small helper, std only: the rest of the crate builds on these and they build on nothing
//! of ours.

pub mod text;
