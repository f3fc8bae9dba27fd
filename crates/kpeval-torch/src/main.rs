//! `kpeval-torch`: the kpeval CLI with the rust-bert model runtime. `kpeval` re-executes this
//! binary for commands that need a model; it can also be called directly.
fn main() {
    tune_malloc();
    let backend = kpeval_torch::TorchBackend::default();
    std::process::exit(kpeval_cli::main(Some(&backend)));
}

/// libtorch allocates its CPU tensors with glibc's malloc, and the model runs on worker threads
/// (the pipeline's scoring stage, rayon, OpenMP). glibc gives each thread an arena of 64 MiB
/// heaps and unmaps a heap as soon as it empties, so every batch of large activations was
/// faulted in and zeroed afresh: at batch 8, ~1.4M extra page faults and more system time than
/// model time (eval/bench/generate.py). One arena (the brk heap), no mmapped chunks and no
/// trimming keep those pages mapped and reused. They must hold from the process's first
/// allocation, so they go through `GLIBC_TUNABLES`: `kpeval` sets it when it starts this
/// binary; started directly without it, this binary re-executes itself with it once
/// (`KPEVAL_NO_REEXEC=1` falls back to mallopt). A `GLIBC_TUNABLES` the user set is left alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    if std::env::var_os("KPEVAL_NO_REEXEC").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("GLIBC_TUNABLES", kpeval_cli::TORCH_MALLOC_TUNABLES)
                .exec();
            eprintln!(
                "kpeval: note: could not restart with malloc settings ({err}); using mallopt"
            );
        }
    }
    // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_MAX, 0);
        // -1: never trim (glibc reads it as the largest size).
        libc::mallopt(libc::M_TRIM_THRESHOLD, -1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
