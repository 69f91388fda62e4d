use std::process::ExitCode;

fn main() -> ExitCode {
    shipcheck::cli::run(std::env::args_os())
}
