//! Tidy checks that keep the domain honest, run under `cargo test`:
//! the rule catalog in code matches `DOMAIN.md`, every rule id is proven by a named test,
//! and every source file opens with a module doc.

// These checks read the crate's own files: I/O the domain itself may never do.
#![allow(clippy::disallowed_methods)]

use domain::Rule;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `DOMAIN.md` lives in `shared/`, beside the repository (as on CI), unless
/// `PARCELPORT_DOMAIN_MD` points elsewhere.
fn domain_md() -> String {
    let path = std::env::var_os("PARCELPORT_DOMAIN_MD")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../shared/DOMAIN.md"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the rule catalog at {} ({e}); clone the repository beside shared/ \
             or set PARCELPORT_DOMAIN_MD",
            path.display()
        )
    })
}

/// Rule ids defined in the catalog: bold `**XXX-N**` at the start of a bullet.
fn catalog_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("- **"))
        .filter_map(|rest| rest.split_once("**").map(|(id, _)| id.to_owned()))
        .filter(|id| {
            id.split_once('-').is_some_and(|(area, n)| {
                area.len() == 3
                    && area.chars().all(|c| c.is_ascii_uppercase())
                    && n.parse::<u32>().is_ok()
            })
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The test code of the crate: `tests/` whole, and `src/` files from their `#[cfg(test)]` on.
fn test_code() -> String {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    rust_files(&crate_dir().join("tests"), &mut files);
    let mut code = String::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let is_test_file = file.starts_with(crate_dir().join("tests"));
        if is_test_file {
            code.push_str(&text);
        } else if let Some(at) = text.find("#[cfg(test)]") {
            code.push_str(&text[at..]);
        }
        code.push('\n');
    }
    code
}

#[test]
fn rule_catalog_matches_domain_md() {
    let in_catalog = catalog_ids(&domain_md());
    let in_code: BTreeSet<String> = Rule::ALL.iter().map(|r| r.id().to_owned()).collect();
    assert!(
        in_catalog.len() > 50,
        "parsed too few rule ids: {in_catalog:?}"
    );
    assert_eq!(
        in_catalog, in_code,
        "domain::Rule must list exactly the rule ids of DOMAIN.md"
    );
}

#[test]
fn every_rule_is_proven_by_a_named_test() {
    let code = test_code();
    let unproven: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.id())
        .filter(|id| {
            let prefix = id.to_ascii_lowercase().replace('-', "_");
            !code.contains(&format!("fn {prefix}_"))
        })
        .collect();
    assert!(
        unproven.is_empty(),
        "rules without a test named after them (fn xxx_n_...): {unproven:?}"
    );
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    rust_files(&crate_dir().join("tests"), &mut files);
    let undocumented: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a //! doc: {undocumented:?}"
    );
}

/// Architecture invariant: the domain depends on no async runtime, database, network or
/// randomness crate directly. (cqrs-es itself brings tokio's `sync` primitives for its
/// `EventSink`; the domain never names tokio.)
#[test]
fn domain_depends_on_no_runtime_database_or_network_crate() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    let forbidden = [
        "tokio",
        "async-std",
        "smol",
        "sqlx",
        "postgres",
        "postgres-es",
        "async-nats",
        "nats",
        "reqwest",
        "hyper",
        "axum",
        "rusqlite",
        "rand",
        "uuid",
        "getrandom",
    ];
    let mut section = "";
    let mut offenders = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[dependencies]" {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            if forbidden.contains(&name) {
                offenders.push(name.to_owned());
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the domain must stay pure, found: {offenders:?}"
    );
}
