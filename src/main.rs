use clap::Parser;

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let cli = aidflow::cli::Cli::parse();
    match aidflow::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aidflow: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Keeps glibc's allocator to two arenas (its heaps), unless `MALLOC_ARENA_MAX` is set.
///
/// By default glibc gives threads up to 8 arenas per core and each keeps what its threads
/// freed: the request threads' arenas put the server at 95 MiB in the benchmark's pages
/// phase at 100,000 events, against 68 MiB with two (docs/src/performance.md, "Every
/// target in one run").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter, and this runs first in main,
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
