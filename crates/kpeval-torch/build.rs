//! Embeds libtorch's directory as an rpath, so binaries run without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        // Resolve the `.libtorch` link, so the binary points at the shared install itself.
        let lib = std::fs::canonicalize(&lib).map(|p| p.display().to_string()).unwrap_or(lib);
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
