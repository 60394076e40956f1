//! The deployment files against their schemas and the code: runs `scripts/validate-deploy.py`
//! from the repository root and fails with its report when it finds a problem (issue #14).
//! The script needs the PyPI packages jsonschema, PyYAML and kubernetes-validate, which
//! `scripts/ensure-services.sh` installs.

use std::path::Path;
use std::process::Command;

#[test]
fn deploy_files_validate_against_compose_and_kubernetes_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate sits in the repository root");
    let output = Command::new("python3")
        .arg("scripts/validate-deploy.py")
        .current_dir(root)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 scripts/validate-deploy.py (is python3 installed?): {error}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/validate-deploy.py found problems in deploy/ ({}):\n{stdout}{stderr}",
        output.status
    );
}
