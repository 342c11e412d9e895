//! The `aarthik-bff` binary: parse the command line and hand over to the library.
#![forbid(unsafe_code)]

/// mimalloc rather than glibc malloc: the request paths allocate many small short-lived buffers
/// (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aarthik_bff::cli::run()
}
