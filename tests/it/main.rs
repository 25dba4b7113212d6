//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod util;

mod dotenv;
mod scan;
mod setup;
