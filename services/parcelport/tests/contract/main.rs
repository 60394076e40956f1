//! The API contract, tested by a fuzzer that reads only the documents (#15): schemathesis 4
//! (from PyPI, installed by `scripts/ensure-services.sh`) runs every check, stateful phase
//! included, against both OpenAPI documents of an embedded server loaded with the demo, and
//! must find nothing:
//! - no 5xx, no answer outside its documented schema, status or headers;
//! - no request the schema forbids accepted, and none it allows refused, beyond the refusals
//!   the state may give (a 409, a documented business refusal: `hooks.py` checks every
//!   problem's code against the operation's `x-error-codes`);
//! - fewer than 10% of the operations reached only with unknown ids: the ids in paths and
//!   bodies are the demo's (appended to `schemathesis.toml` here), and the stateful phase
//!   follows the documents' links from what a command created.

#[path = "../common/mod.rs"]
mod common;

use common::{call, secret, Running};
use hyper::Method;
use parcelport::{ServeConfig, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

/// Ids of the demo for the operations' paths and bodies: a member's shipment with a claim
/// filed on one of its parcels.
struct DemoIds {
    member: String,
    parcel: String,
    shipment: String,
    claim: String,
    /// The member's suite code and stored parcels, for the bodies that name them.
    suite_code: String,
    stored: Vec<String>,
}

impl DemoIds {
    /// Found through the query API.
    async fn find(address: SocketAddr, admin: &str) -> Self {
        let get = |path: String| async move {
            let (status, page) = call(address, Method::GET, &path, admin, None).await;
            assert_eq!(status, 200, "{path}: {page:#}");
            page
        };
        let claims = get("/v1/audit/events?event_type=shipment.claimed&limit=1".to_owned()).await;
        let claimed = &claims["items"][0];
        let text = |value: &Value| value.as_str().expect("an id").to_owned();
        let member = text(&claimed["payload"]["claimed"]["member_id"]);
        let registered = get(format!(
            "/v1/audit/events?event_type=member.registered&aggregate_id={member}&limit=1"
        ))
        .await;
        let stored = get(format!(
            "/v1/storage/parcels?member_id={member}&state=stored"
        ))
        .await;
        Self {
            parcel: text(&claimed["payload"]["claimed"]["item"]["parcel_id"]),
            shipment: text(&claimed["aggregate_id"]),
            claim: text(&claimed["payload"]["claimed"]["claim_id"]),
            suite_code: text(&registered["items"][0]["payload"]["registered"]["suite_code"]),
            stored: stored["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|parcel| text(&parcel["parcel_id"]))
                .collect(),
            member,
        }
    }

    /// The configuration's part that names them: the path parameters (`hooks.py` puts the
    /// claim, the suite code and the stored parcels into bodies, from the environment).
    fn config(&self) -> String {
        format!(
            r#"
[parameters]
"path.member_id" = "{member}"
"path.account_id" = "acct-{member}"
"path.parcel_id" = "{parcel}"
"path.shipment_id" = "{shipment}"
"path.aggregate_type" = "parcel"
"path.aggregate_id" = "{parcel}"
"#,
            member = self.member,
            parcel = self.parcel,
            shipment = self.shipment,
        )
    }
}

/// `schemathesis run` against the document at `base` + `document`, with `config`, on a
/// blocking thread.
async fn schemathesis(
    base: &str,
    document: &str,
    admin: &str,
    ids: &DemoIds,
    config: &Path,
) -> Output {
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/hooks.py");
    let mut command = std::process::Command::new("schemathesis");
    command
        .arg("--config-file")
        .arg(config)
        .args(["run", &format!("{base}{document}"), "--checks", "all"])
        .env("PP_TOKEN", admin)
        .env("PP_CLAIM", &ids.claim)
        .env("PP_SUITE_CODE", &ids.suite_code)
        .env("PP_STORED", ids.stored.join(","))
        .env("PP_HOOKS", hooks)
        .env("NO_COLOR", "1")
        // Its cache of crashes goes beside the configuration, not into the source tree.
        .current_dir(config.parent().expect("the configuration's directory"));
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("schemathesis runs (scripts/ensure-services.sh installs it)")
}

/// The number after `label` in schemathesis' report (`Missing test data: 3 operations`).
fn count_after(report: &str, label: &str) -> Option<usize> {
    let rest = &report[report.find(label)? + label.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Passes when schemathesis found no failure and reached fewer than 10% of the operations
/// only with unknown ids; else panics with its report.
fn assert_clean(document: &str, output: &Output) {
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    let operations = report
        .find("Operations:")
        .and_then(|at| count_after(&report[at..], "Operations:"))
        .unwrap_or_else(|| panic!("{document}: no operation count in\n{report}\n{errors}"));
    let unknown_only = count_after(&report, "Missing test data:").unwrap_or(0);
    // The report, for the run's log: what each phase reached.
    eprintln!("schemathesis on {document}:\n{report}");
    assert!(
        output.status.success(),
        "schemathesis found failures in {document}:\n{report}\n{errors}"
    );
    assert!(
        unknown_only * 10 < operations,
        "{document}: {unknown_only} of {operations} operations were reached only with unknown \
         ids:\n{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_wrong_in_either_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .expect("serve");
    let admin = secret(&server, "admin");
    let running = Running::start(server).await;
    let base = format!("http://{}", running.address);
    demo::run(
        demo::DemoOptions::new(base.clone(), admin.clone(), 1),
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    let ids = DemoIds::find(running.address, &admin).await;
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract");
    let settings = std::fs::read_to_string(here.join("schemathesis.toml")).unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, settings + &ids.config()).unwrap();

    let (commands, queries) = tokio::join!(
        schemathesis(&base, "/openapi.json", &admin, &ids, &config),
        schemathesis(&base, "/query/openapi.json", &admin, &ids, &config),
    );
    running.stop().await;
    assert_clean("the command API", &commands);
    assert_clean("the query API", &queries);
}
