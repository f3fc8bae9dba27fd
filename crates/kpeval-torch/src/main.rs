//! `kpeval-torch`: the kpeval CLI with the rust-bert model runtime. `kpeval` re-executes this
//! binary for commands that need a model; it can also be called directly.
fn main() {
    tune_malloc();
    let backend = kpeval_torch::TorchBackend::default();
    std::process::exit(kpeval::cli::main(Some(&backend)));
}

/// libtorch allocates its CPU tensors with glibc's malloc. Buffers over the mmap threshold (at
/// most 32 MB) are mmapped and unmapped on every call, so batched generation spends its time
/// in page faults zeroing fresh pages (eval/bench/generate.py, batch 8). Serving every size from
/// the heap and never trimming it keeps those pages mapped and reused. Settings
/// in `GLIBC_TUNABLES` (glibc.malloc.*) still apply when given.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
