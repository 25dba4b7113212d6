//! The `unleak` binary: parse the arguments, run, map the outcome to an exit code. Nothing else.

fn main() -> std::process::ExitCode {
    unleak::run_from_args(std::env::args_os())
}
