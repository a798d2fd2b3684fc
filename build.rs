//! Hashes the callback Lambda packages that sfngen ships (`packages/callback-ARCH.zip`, compiled into the
//! binary by `lambda::shipped`) when sfngen is compiled: the SHA-256 names the package's entry in the cache,
//! so a render never hashes 2 MB. `lambda::tests` checks that each hash is the one of the embedded bytes.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The architectures sfngen ships a package for, as they appear in the package's file name.
const ARCHITECTURES: [&str; 2] = ["arm64", "x86_64"];

fn main() {
    for architecture in ARCHITECTURES {
        let path = format!("packages/callback-{architecture}.zip");
        println!("cargo:rerun-if-changed={path}");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{path}: {e}; the callback packages are committed: restore it, or run scripts/refresh-packages.sh")
        });
        let mut hash = String::new();
        for byte in Sha256::digest(&bytes) {
            let _ = write!(hash, "{byte:02x}");
        }
        println!(
            "cargo:rustc-env=SFNGEN_PACKAGE_SHA256_{}={hash}",
            architecture.to_uppercase()
        );
    }
}
