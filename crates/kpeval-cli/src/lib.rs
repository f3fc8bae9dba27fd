//! Command-line interface: clap definitions, raw args → validated configs, and the commands.
//! `main` returns an exit code: 0 all records fine, 1 some records failed, 2 usage or fatal error.
#![deny(missing_docs)]
mod args;
mod commands;
mod reporter;

pub use args::Cli;

use clap::Parser;
use kpeval::backend::Backend;

/// Entry point shared by `kpeval` (no backend) and `kpeval-torch` (rust-bert backend).
pub fn main(backend: Option<&dyn Backend>) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if backend.is_none() {
        match cli.needs_models() {
            // A model summarizer cannot run without the runtime.
            Need::Required => return reexec_with_models(true),
            // Model metrics are reported as not computed when the runtime is missing.
            Need::Optional => {
                let code = reexec_with_models(false);
                if code != NOT_FOUND {
                    return code;
                }
            }
            Need::No => {}
        }
    }
    if let Some(n) = cli.threads {
        // Only kpeval's own workers: libtorch keeps its default intra-op threads, because its
        // reductions split differently with other counts and results must not depend on --threads.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    if let (Some(n), Some(b)) = (cli.model_threads, backend) {
        b.set_threads(n.max(1));
    }
    if let Some(b) = backend {
        // the flag also travels in each command's config; this covers `embed` and `nli`
        b.set_offline(cli.offline);
    }
    match commands::dispatch(cli, backend) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kpeval: error: {e}");
            2
        }
    }
}

pub use args::Need;
const NOT_FOUND: i32 = -1;

/// glibc malloc settings for the model runtime (see `kpeval-torch`'s main): one arena, no
/// mmapped chunks, no trimming. Set through the environment so that they hold from the first
/// allocation of the process (mallopt from `main` comes after libtorch's static initialization
/// and measured 2-3x the system time of these at batch 8).
pub const TORCH_MALLOC_TUNABLES: &str = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=18446744073709551615";

/// The lean binary may have turned transparent huge pages off for itself (its `main`); the flag
/// survives exec, and the model runtime should get the system's default.
fn restore_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
        extern "C" {
            fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
        }
        // SAFETY: only clears a flag on this process's memory map.
        unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            );
        }
    }
}

/// Replaces this process by `kpeval-torch` (next to this binary) with the same arguments
/// (and [`TORCH_MALLOC_TUNABLES`] unless `GLIBC_TUNABLES` is set).
/// Returns NOT_FOUND when it is absent and not `required`.
fn reexec_with_models(required: bool) -> i32 {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok();
    let sibling = exe.as_ref().and_then(|p| p.parent()).map(|d| d.join("kpeval-torch"));
    match sibling {
        Some(path) if path.exists() => {
            let mut cmd = std::process::Command::new(&path);
            cmd.args(std::env::args_os().skip(1));
            if std::env::var_os("GLIBC_TUNABLES").is_none() {
                cmd.env("GLIBC_TUNABLES", TORCH_MALLOC_TUNABLES);
            }
            restore_transparent_huge_pages();
            let err = cmd.exec();
            eprintln!("kpeval: error: could not start {}: {err}", path.display());
            2
        }
        _ if !required => NOT_FOUND,
        _ => {
            eprintln!(
                "kpeval: error: this command needs a model, which runs in the `kpeval-torch` binary; it was not found next to {} (build it with `make build`)",
                exe.map(|p| p.display().to_string()).unwrap_or_else(|| "kpeval".into())
            );
            2
        }
    }
}
