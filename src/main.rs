use std::process::ExitCode;

fn main() -> ExitCode {
    shipcheck::main_with_args(std::env::args_os())
}
