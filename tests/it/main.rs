//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod api_stub;
mod hf_stub;
mod util;

mod action;
mod api_failures;
mod audit;
mod dotenv;
mod e2e;
mod falseclean;
mod footprint;
mod fuzz_regressions;
mod golden;
mod hook;
mod hostile;
mod large_blob;
mod layering;
mod leaks;
mod ml_corpus;
mod ml_liveness;
mod ml_respond;
mod newcomer;
mod noise;
mod pack;
mod prompts;
mod provenance;
mod providers;
mod respond;
mod rewrite;
mod sarif;
mod scan;
mod self_audit;
mod setup;
mod verify;
