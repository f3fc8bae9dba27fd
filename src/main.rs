//! The lean `kpeval` binary: no libtorch. Commands that need a model re-execute `kpeval-torch`.
fn main() {
    std::process::exit(kpeval::cli::main(None));
}
