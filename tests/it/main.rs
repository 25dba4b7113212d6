//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod hf_stub;
mod util;

mod audit;
mod dotenv;
mod e2e;
mod hook;
mod newcomer;
mod pack;
mod respond;
mod rewrite;
mod sarif;
mod scan;
mod setup;
mod verify;
