# kpeval: trims rust-bert's published Cargo.toml to the library (see KPEVAL-PATCH.md)
NR == 1 { print "# Vendored rust-bert (Apache-2.0) with the kpeval patches, see KPEVAL-PATCH.md and kpeval.patch" }
/^\[/ {
    drop = ($0 ~ /^\[profile\.bench\]$/ || $0 ~ /^\[\[(bin|example|test|bench)\]\]$/ || $0 ~ /^\[dev-dependencies\./)
    if ($0 == "[dependencies.lazy_static]") print "[dependencies.libc]\nversion = \"0.2\"\n"
}
!drop { print }
