//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod hf_stub;
mod util;

mod dotenv;
mod e2e;
mod pack;
mod respond;
mod rewrite;
mod scan;
mod setup;
mod verify;
