//! The lean `kpeval` binary: no libtorch. Commands that need a model re-execute `kpeval-torch`.

// Scoring allocates many small short-lived strings and vectors per record; mimalloc is ~10%
// faster than glibc's malloc on `kpeval score` (eval/bench/overlap.py).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(kpeval::cli::main(None));
}
