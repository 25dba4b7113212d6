//! Integration tests: real throwaway git repositories, the real binary, real helper programs.

mod util;

mod rewrite;
mod scan;
