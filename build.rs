//! Hashes the callback Lambda's sources (`lambda/`, embedded in sfngen) when sfngen is compiled: the
//! hash is the key of the built package in the cache, so a render need not hash 70 kB each time.
//! `lambda::tests` checks that this is the SHA-256 of exactly the files `lambda::SOURCES` embeds, in
//! their order: `Cargo.toml`, `Cargo.lock`, `src/main.rs`, then the other `src/*.rs` by name.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-changed=lambda/src");
    let mut hasher = Sha256::new();
    for path in source_paths() {
        println!("cargo:rerun-if-changed=lambda/{path}");
        let contents = std::fs::read(format!("lambda/{path}")).unwrap_or_else(|e| panic!("lambda/{path}: {e}"));
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(&contents);
        hasher.update([0]);
    }
    let mut hash = String::new();
    for byte in &hasher.finalize()[..8] {
        let _ = write!(hash, "{byte:02x}");
    }
    println!("cargo:rustc-env=SFNGEN_LAMBDA_SOURCE_HASH={hash}");
}

/// The Lambda crate's files, in `lambda::SOURCES` order.
fn source_paths() -> Vec<String> {
    let mut others: Vec<String> = std::fs::read_dir("lambda/src")
        .unwrap_or_else(|e| panic!("lambda/src: {e}"))
        .map(|entry| entry.unwrap_or_else(|e| panic!("lambda/src: {e}")).file_name())
        .map(|name| format!("src/{}", name.to_string_lossy()))
        .filter(|path| path.ends_with(".rs") && path != "src/main.rs")
        .collect();
    others.sort();
    let mut paths = vec![
        "Cargo.toml".to_string(),
        "Cargo.lock".to_string(),
        "src/main.rs".to_string(),
    ];
    paths.extend(others);
    paths
}
