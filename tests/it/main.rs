//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod api_stub;
mod hf_stub;
mod util;

mod action;
mod audit;
mod dotenv;
mod e2e;
mod hook;
mod hostile;
mod newcomer;
mod pack;
mod providers;
mod respond;
mod rewrite;
mod sarif;
mod scan;
mod setup;
mod verify;
