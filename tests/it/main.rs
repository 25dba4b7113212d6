//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod api_stub;
mod hf_stub;
mod util;

mod api_failures;
mod action;
mod audit;
mod dotenv;
mod e2e;
mod hook;
mod large_blob;
mod leaks;
mod hostile;
mod pack;
mod providers;
mod respond;
mod rewrite;
mod sarif;
mod scan;
mod setup;
mod verify;
