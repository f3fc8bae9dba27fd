//! `kpeval-torch`: the kpeval CLI with the rust-bert model runtime. `kpeval` re-executes this
//! binary for commands that need a model; it can also be called directly.
fn main() {
    let backend = kpeval_torch::TorchBackend::default();
    std::process::exit(kpeval::cli::main(Some(&backend)));
}
