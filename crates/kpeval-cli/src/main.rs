//! The lean `kpeval` binary: no libtorch. Commands that need a model re-execute `kpeval-torch`.

// Scoring allocates many small short-lived strings and vectors per record; mimalloc is ~10%
// faster than glibc's malloc on `kpeval score` (eval/bench/overlap.py).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    no_transparent_huge_pages();
    std::process::exit(kpeval_cli::main(None));
}

/// mimalloc asks for transparent huge pages on its arenas, so the first touch of each fresh
/// 2 MiB zeroes all of it: ~20% of a `score --metrics rouge` run over 11k records went to the
/// kernel clearing pages, and peak RSS was 50 MiB instead of 29. Scoring processes are short and
/// touch little memory, so they opt out (`KPEVAL_THP=1` keeps huge pages).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("KPEVAL_THP").is_none() {
        const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
        extern "C" {
            fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
        }
        // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this process's memory map;
        // a failure (old kernel) leaves huge pages on, which is harmless.
        unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                1 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            );
        }
    }
}
