//! The architecture's dependency rule, checked on the manifests (ARCHITECTURE.md, "Dependencies
//! point inward"): `domain` depends on no workspace crate, and no package outside `services/`
//! (the libraries in `crates/`, `domain`, `projections`, this crate) depends on `services/`,
//! in any dependency table.

use std::path::{Path, PathBuf};

/// Every `Cargo.toml` of the workspace outside `services/`.
fn manifests_outside_services(root: &Path) -> Vec<PathBuf> {
    let mut manifests = vec![
        root.join("domain/Cargo.toml"),
        root.join("projections/Cargo.toml"),
        root.join("tests/Cargo.toml"),
    ];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        if manifest.exists() {
            manifests.push(manifest);
        }
    }
    manifests
}

/// The `path = "..."` dependencies of a manifest, resolved against its folder.
fn path_dependencies(manifest: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let folder = manifest.parent().unwrap();
    text.split("path = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|path| !path.ends_with(".rs"))
        .map(|path| folder.join(path))
        .collect()
}

#[test]
fn nothing_outside_services_depends_on_services_and_the_domain_on_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let services = root.join("services").canonicalize().unwrap();
    let mut wrong = Vec::new();
    for manifest in manifests_outside_services(root) {
        for dependency in path_dependencies(&manifest) {
            let dependency = dependency.canonicalize().unwrap_or(dependency);
            if dependency.starts_with(&services) {
                wrong.push(format!(
                    "{} -> {}",
                    manifest.display(),
                    dependency.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies on services/: {wrong:#?}");
    let domain = path_dependencies(&root.join("domain/Cargo.toml"));
    assert!(domain.is_empty(), "domain depends on {domain:?}");
}
