use std::process::ExitCode;

/// A fleet check allocates millions of small records; mimalloc serves them
/// with a fraction of glibc's CPU (bench/BASELINE.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    shipcheck::cli::run(std::env::args_os())
}
