//! The acceptance test of the ops dashboard: `parcelport serve`, embedded (the README's run
//! command) and on a fresh PostgreSQL database (command API, projectors and query API
//! in-process, its clock pinned to a receiving day),
//! the demo scenario loaded through the API, and the dashboard driven in headless Chromium
//! through chromedriver: token entry, storage and today's work, billing, a parcel's audit trail,
//! the business clock advanced from the page and an operator's action on today's work,
//! projection health; and the living demo (`--days 60`): parcels of many ages page by page,
//! parcels past their limit, the scheduler's journal, an operator's disposal. Every assertion
//! compares the page with what the query API answers.

#[path = "../common/mod.rs"]
mod common;
mod webdriver;

use common::{call, secret, Running};

use chrono::{TimeZone, Utc};
use engine::TestClock;
use hyper::Method;
use parcelport::{ServeConfig, Server, StoreChoice};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::ScratchDb;
use webdriver::Browser;

/// `GET path` as `token`: the JSON body of a 200.
async fn get(address: SocketAddr, path: &str, token: &str) -> Value {
    let (status, body) = call(address, Method::GET, path, token, None).await;
    assert_eq!(status, 200, "GET {path}: {body:#}");
    body
}

/// `POST path` with `body` as `token`, under a fresh idempotency key: the JSON body of a 2xx.
async fn post(address: SocketAddr, path: &str, body: Value, token: &str) -> Value {
    let (status, body) = call(address, Method::POST, path, token, Some(body)).await;
    assert!(
        (200..300).contains(&status),
        "POST {path}: {status} {body:#}"
    );
    body
}

/// An operator disposes of the first parcel marked disposable from the storage tab (which is
/// open), and the storage-status view shows it disposed: its id.
async fn dispose_one_from_the_page(browser: &Browser, address: SocketAddr, admin: &str) -> String {
    let due = get(address, "/v1/storage/due-today?task=to_dispose", admin).await;
    let disposable = due["items"][0]["parcel_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a parcel to dispose of: {due:#}"))
        .to_owned();
    browser
        .wait_for(&format!("#due-today button[data-id='{disposable}']"))
        .await;
    browser
        .click(&format!("#due-today button[data-id='{disposable}']"))
        .await;
    browser
        .wait_for_text("#status", &[&format!("Dispose: done for {disposable}.")])
        .await;
    let disposed = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let path = format!("/v1/storage/parcels/{disposable}");
            if get(address, &path, admin).await["state"] == "disposed" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(disposed.is_ok(), "{disposable} not disposed in the view");
    disposable
}

/// Waits until every view has applied every event of the store.
async fn projected(address: SocketAddr, admin: &str) {
    let caught_up = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let health = get(address, "/v1/projections", admin).await;
            let views = health["views"].as_array().cloned().unwrap_or_default();
            if views.len() == 3 && views.iter().all(|v| v["status"] == "ok") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(caught_up.is_ok(), "the projectors did not catch up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_staff_read_the_demo_warehouse_on_the_embedded_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    walk_the_dashboard(ServeConfig {
        clock: Some(receiving_day()),
        ..ServeConfig::embedded(dir.path())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_staff_read_the_demo_warehouse_on_the_postgresql_dashboard() {
    let db = ScratchDb::create("dashboard").await;
    let dir = tempfile::tempdir().unwrap();
    walk_the_dashboard(ServeConfig {
        store: StoreChoice::Postgres {
            database_url: db.url().to_owned(),
            nats_url: None,
        },
        max_connections: 8,
        clock: Some(receiving_day()),
        ..ServeConfig::embedded(dir.path())
    })
    .await;
}

/// The living demo on the dashboard (#12): `parcelport demo --days 60` on a simulated clock,
/// then the storage tab shows parcels of many ages and the parcels past their limit, the
/// schedule tab the notices the scheduler sent and what is next, an operator disposes of a
/// parcel past its limit from the page, and does an action due now ("Do now") before the
/// scheduler's next tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_staff_work_a_sixty_day_warehouse_from_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
    let mut config = ServeConfig {
        clock: Some(clock),
        ..ServeConfig::embedded(dir.path())
    };
    // The scheduler works when the clock is advanced; between advances, what falls due waits
    // for the operator (a real clock's scheduler ticks every 30 s).
    config.scheduler.interval = Duration::from_secs(3600);
    let server = Server::open(config).await.unwrap();
    let admin = secret(&server, "admin");
    let running = Running::start(server).await;
    let address = running.address;
    let base = format!("http://{address}");
    demo::run(
        demo::DemoOptions {
            days: 60,
            ..demo::DemoOptions::new(base.clone(), admin.clone(), 1)
        },
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the 60-day demo plays: {e}"));
    projected(address, &admin).await;

    // What the page must show, from the query API: every page of the parcel list.
    let mut pages: Vec<Vec<Value>> = Vec::new();
    let mut path = "/v1/storage/parcels?limit=25".to_owned();
    loop {
        let page = get(address, &path, &admin).await;
        pages.push(page["items"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/storage/parcels?limit=25&cursor={cursor}"),
            None => break,
        }
    }
    let parcels: Vec<&Value> = pages.iter().flatten().collect();
    let received: std::collections::BTreeSet<&str> = parcels
        .iter()
        .filter_map(|p| p["received_on"].as_str())
        .collect();
    assert!(received.len() >= 10, "parcels of few ages: {received:?}");
    let past = get(address, "/v1/storage/past-limit?limit=500", &admin).await;
    let past_count = past["items"].as_array().unwrap().len();
    assert!(past_count >= 1, "no parcel past its limit: {past:#}");
    let past_parcel = past["items"][0]["parcel_id"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    browser.open(&format!("{base}/")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#token-save").await;

    // Parcels of many ages: every page of the list, opened with "Next page", shows the view's
    // arrival date and days stored, row by row.
    browser.wait_for_text("#parcels", &["Days stored"]).await;
    for page in pages.iter().skip(1) {
        browser.click("#parcels-more").await;
        let first = page[0]["parcel_id"].as_str().unwrap();
        browser
            .wait_for(&format!("#parcels [data-id='{first}']"))
            .await;
    }
    for (row, parcel) in parcels.iter().enumerate() {
        let cell = |column: usize| {
            let css = format!(
                "#parcels tbody tr:nth-child({}) td:nth-child({column})",
                row + 1
            );
            let browser = &browser;
            async move {
                browser
                    .text(&css)
                    .await
                    .unwrap_or_else(|e| panic!("{css}: {e}"))
            }
        };
        let shown = |value: &Value| match value {
            Value::Null => "—".to_owned(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        assert_eq!(
            cell(5).await,
            shown(&parcel["received_on"]),
            "row {}",
            row + 1
        );
        assert_eq!(
            cell(6).await,
            shown(&parcel["storage"]["days_stored"]),
            "row {}",
            row + 1
        );
    }
    // The page shows the list's first 100 rows, and says when more follow.
    let past_shown = if past_count > 100 {
        "100+".to_owned()
    } else {
        past_count.to_string()
    };
    browser
        .wait_for_text(
            "#past-limit",
            &[&format!(
                "{past_shown} parcel(s) past their free storage limit"
            )],
        )
        .await;
    browser
        .wait_for(&format!("#past-limit [data-id='{past_parcel}']"))
        .await;

    // The scheduler's work: notices sent and parcels marked, done; more to come.
    browser.click("#tab-schedule").await;
    browser
        .wait_for_text("#schedule-clock", &["2026-05-", "simulated clock"])
        .await;
    let mut journal = get(address, "/v1/schedule?limit=100", &admin).await;
    let mut older_pages = 0;
    let mut entries = journal["done"].as_array().unwrap().len();
    let mut shown = vec![entries];
    while !journal["done"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["action"] == "send_storage_notice")
    {
        let next = journal["next"]
            .as_str()
            .expect("a storage notice in the journal");
        journal = get(
            address,
            &format!("/v1/schedule?limit=100&after={next}"),
            &admin,
        )
        .await;
        older_pages += 1;
        entries += journal["done"].as_array().unwrap().len();
        shown.push(entries);
    }
    browser
        .wait_for_text(
            "#schedule-shown",
            &[&format!("The latest {} entries", shown[0])],
        )
        .await;
    for count in shown.iter().skip(1) {
        browser.click("#schedule-more").await;
        browser
            .wait_for_text("#schedule-shown", &[&format!("The latest {count} entries")])
            .await;
    }
    assert_eq!(shown.len(), older_pages + 1);
    browser
        .wait_for_text(
            "#schedule-done",
            &["send_storage_notice", "STO-2", "mark_disposable", "done"],
        )
        .await;
    browser.wait_for_text("#schedule-pending", &["later"]).await;

    // An operator disposes of a parcel past its limit from the page; the view changes.
    browser.click("#tab-storage").await;
    let disposable = dispose_one_from_the_page(&browser, address, &admin).await;
    browser.click("#tab-schedule").await;
    browser.click("#tab-storage").await;
    browser
        .wait_for_text("#past-limit", &["past their free storage limit"])
        .await;
    assert!(
        !browser
            .exists(&format!("#past-limit [data-id='{disposable}']"))
            .await,
        "{disposable} still past its limit"
    );

    // An action due now, before the scheduler's next tick: a proxy-paid parcel bought 50 days
    // ago and never arrived (PAR-2). The operator cancels it from the schedule tab.
    let today: chrono::NaiveDate = get(address, "/v1/clock", &admin).await["today"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let member = parcels
        .iter()
        .find_map(|p| p["member_id"].as_str())
        .expect("a member's parcel")
        .to_owned();
    let expected = uuid::Uuid::now_v7().to_string();
    post(
        address,
        &format!("/v1/parcels/{expected}/expect"),
        json!({
            "member_id": member, "shop": "shop-approved-1",
            "purchased_on": today - chrono::Duration::days(50)
        }),
        &admin,
    )
    .await;
    projected(address, &admin).await;
    browser.click("#tab-schedule").await;
    browser
        .wait_for_text("#schedule-pending", &["cancel_expected_parcel", "due now"])
        .await;
    browser
        .wait_for(&format!("#schedule-pending [data-id='{expected}']"))
        .await;
    browser
        .click(&format!("#schedule-pending button[data-id='{expected}']"))
        .await;
    browser
        .wait_for_text("#status", &[&format!("Do now: done for {expected}.")])
        .await;
    let cancelled = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let path = format!("/v1/audit/parcel/{expected}/history");
            let history = get(address, &path, &admin).await;
            let found = history["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["event_type"] == "parcel.cancelled")
                .cloned();
            if let Some(cancelled) = found {
                return cancelled;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{expected} not cancelled in the audit view"));
    assert_ne!(cancelled["actor"], "scheduler", "{cancelled:#}");
    assert_eq!(cancelled["rule_id"], "PAR-2", "{cancelled:#}");

    people_and_pictures(&browser, address, &admin).await;
    drop(browser);
    running.stop().await;
}

/// Where the test leaves its screenshots for review: `target/tmp/dashboard/`.
fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The dashboard for people (#15), on the sixty-day warehouse: a member found by suite code,
/// their page (name, parcels, account), a parcel's timeline, the four charts drawn from the
/// views with the API's numbers, the keyboard on the tabs, every control labelled, and the
/// same pages in Japanese. A screenshot of each page goes to `target/tmp/dashboard/`.
async fn people_and_pictures(browser: &Browser, address: SocketAddr, admin: &str) {
    let shots = screenshots();
    browser.resize(1400, 1900).await;

    // A member with parcels in the warehouse, and what the API says of them.
    let here = get(address, "/v1/storage/parcels?limit=500", admin).await;
    let parcel = here["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["member_id"].is_string() && p["suite_code"].is_string())
        .expect("a member's parcel in the warehouse")
        .clone();
    let member_id = parcel["member_id"].as_str().unwrap().to_owned();
    let suite_code = parcel["suite_code"].as_str().unwrap().to_owned();
    let page = get(address, &format!("/v1/storage/members/{member_id}"), admin).await;
    let name = page["member"]["name"].as_str().expect("a name").to_owned();
    assert!(!name.starts_with("pp:sealed"), "the name is opened: {name}");
    let account = get(
        address,
        &format!(
            "/v1/billing/accounts/{}",
            page["account_id"].as_str().unwrap()
        ),
        admin,
    )
    .await;

    // Found by suite code, typed in lower case at the counter.
    browser.click("#tab-storage").await;
    browser.clear("#search").await;
    browser
        .type_into("#search", &suite_code.to_lowercase())
        .await;
    browser.click("#search-go").await;
    browser
        .wait_for_text(
            "#found-list",
            &[&format!("{suite_code} · {name}"), "suite code"],
        )
        .await;
    browser.screenshot(&shots.join("search.png")).await;

    // The member's page: name and suite code, every parcel, the account's movements.
    browser
        .click(&format!("#found-list a[data-member='{member_id}']"))
        .await;
    browser
        .wait_for_text("#member-title", &[&suite_code, &name])
        .await;
    let movements = account["movements"].as_array().unwrap().len();
    browser
        .wait_for_text("#member-account", &[&format!("{movements} movement(s).")])
        .await;
    let rows = browser
        .execute("return document.querySelectorAll('#member-parcels tbody tr').length;")
        .await;
    assert_eq!(
        rows,
        page["parcels"].as_array().unwrap().len(),
        "parcels shown"
    );
    browser.screenshot(&shots.join("member.png")).await;

    // A parcel's page from the member's: its facts and its timeline, event by event.
    let parcel_id = parcel["parcel_id"].as_str().unwrap();
    browser
        .click(&format!("#member-parcels a[data-id='{parcel_id}']"))
        .await;
    let history = get(
        address,
        &format!("/v1/audit/parcel/{parcel_id}/history"),
        admin,
    )
    .await;
    let events = history["items"].as_array().unwrap();
    browser
        .wait_for_text(
            "#parcel-timeline",
            &[
                &format!("{} event(s), oldest first.", events.len()),
                "parcel.arrived",
            ],
        )
        .await;
    browser
        .wait_for_text("#parcel-facts", &[parcel_id, &suite_code, &name])
        .await;
    let shown = browser
        .execute(
            "return [...document.querySelectorAll('#parcel-timeline tbody tr')]
               .map(tr => [...tr.cells].map(td => td.textContent));",
        )
        .await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), events.len());
    for (row, event) in shown.iter().zip(events) {
        let text = |field: &str| event[field].as_str().unwrap_or("—").to_owned();
        assert_eq!(row[1], text("event_type"));
        assert_eq!(row[3], text("actor"));
        assert_eq!(row[5], text("rule_id"));
        assert_eq!(row[6], text("policy_version"));
    }
    browser.screenshot(&shots.join("parcel.png")).await;

    // The charts, drawn from the views: the numbers each one holds are the API's.
    browser.click("#tab-trends").await;
    for chart in ["occupancy", "flow", "fees", "lag"] {
        browser.wait_for(&format!("#chart-{chart} canvas")).await;
    }
    let drawn = browser
        .execute(
            "const out = {};
             for (const [name, chart] of Object.entries(window.parcelportCharts)) {
               out[name] = { data: chart.data, labels: chart.series.slice(1).map(s => s.label) };
             }
             return out;",
        )
        .await;
    let daily = get(address, "/v1/storage/daily?days=90", admin).await;
    let days = daily["days"].as_array().unwrap();
    let midnight = |date: &str| {
        let day: chrono::NaiveDate = date.parse().unwrap();
        day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
    };
    let column = |field: &str| -> Vec<Value> { days.iter().map(|d| d[field].clone()).collect() };
    let x: Vec<Value> = days
        .iter()
        .map(|d| json!(midnight(d["date"].as_str().unwrap())))
        .collect();
    assert_eq!(
        drawn["occupancy"]["data"],
        json!([x, column("in_warehouse"), column("past_limit")])
    );
    assert_eq!(
        drawn["flow"]["data"],
        json!([x, column("arrivals"), column("shipments")])
    );
    assert!(days.iter().any(|d| d["past_limit"].as_u64() > Some(0)));
    assert!(
        days.iter()
            .filter(|d| d["in_warehouse"].as_u64() > Some(0))
            .count()
            >= 30
    );
    // Fees per month by type, in the currency most charges are in.
    let fees = get(address, "/v1/billing/fees?by=month&limit=500", admin).await;
    let fees = fees["items"].as_array().unwrap();
    let currency = fees[0]["currency"].as_str().unwrap();
    assert!(
        fees.iter().all(|f| f["currency"] == currency),
        "one currency"
    );
    let months: std::collections::BTreeSet<&str> =
        fees.iter().map(|f| f["month"].as_str().unwrap()).collect();
    let reasons: std::collections::BTreeSet<&str> =
        fees.iter().map(|f| f["reason"].as_str().unwrap()).collect();
    let mut expected = vec![json!(months
        .iter()
        .map(|m| midnight(m))
        .collect::<Vec<_>>())];
    for reason in &reasons {
        expected.push(json!(months
            .iter()
            .map(|month| fees
                .iter()
                .find(|f| f["month"] == *month && f["reason"] == *reason)
                .map_or(0.0, |f| f["amount"]
                    .as_str()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()))
            .collect::<Vec<_>>()));
    }
    // Compared as numbers: the page's integers are the API's decimal amounts.
    let numbers = |value: &Value| -> Vec<Vec<f64>> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_f64().unwrap())
                    .collect()
            })
            .collect()
    };
    assert_eq!(numbers(&drawn["fees"]["data"]), numbers(&json!(expected)));
    assert_eq!(drawn["fees"]["labels"], json!(reasons));
    assert!(months.len() >= 2, "fees in several months: {months:?}");
    // The lag of the last hour: the samples the chart was drawn from are the API's first ones.
    let lag = get(address, "/v1/projections/lag-history", admin).await;
    let samples = lag["samples"].as_array().unwrap();
    let drawn_x = drawn["lag"]["data"][0].as_array().unwrap();
    assert!(!drawn_x.is_empty() && drawn_x.len() <= samples.len());
    for (i, at) in drawn_x.iter().enumerate() {
        let sample = &samples[i];
        let stamp = chrono::DateTime::parse_from_rfc3339(sample["at"].as_str().unwrap()).unwrap();
        let seconds = stamp.timestamp_millis() as f64 / 1000.0;
        assert!((at.as_f64().unwrap() - seconds).abs() < 1e-3);
        for (view, lag) in sample["views"].as_array().unwrap().iter().enumerate() {
            assert_eq!(
                drawn["lag"]["data"][view + 1][i].as_f64(),
                lag["lag_seconds"].as_f64()
            );
        }
    }
    assert_eq!(
        drawn["lag"]["labels"],
        json!(["storage_status", "billing", "audit"])
    );
    browser.screenshot(&shots.join("trends.png")).await;

    // Accessible: every control has a label, every chart a text alternative, and the tabs
    // follow the arrow keys.
    let unlabelled = browser
        .execute(
            "return [...document.querySelectorAll('input, select, button')]
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                            && !e.textContent.trim())
               .map(e => e.id || e.outerHTML);",
        )
        .await;
    assert_eq!(unlabelled, json!([]), "controls without a label");
    let undescribed = browser
        .execute(
            "return [...document.querySelectorAll('[role=img]')]
               .filter(e => !e.getAttribute('aria-label')).length;",
        )
        .await;
    assert_eq!(undescribed, 0);
    browser.type_into("#tab-trends", "\u{E014}").await;
    browser.wait_for("#tab-billing[aria-selected='true']").await;
    browser.wait_for("#billing-fees table").await;

    // 日本語: the same pages in Japanese.
    browser.click("#lang option[value='ja']").await;
    browser.wait_for_text("#tab-trends", &["推移"]).await;
    assert_eq!(
        browser
            .execute("return document.documentElement.lang;")
            .await,
        "ja"
    );
    browser.click("#tab-trends").await;
    browser
        .wait_for_text("#charts", &["倉庫内の荷物と期限超過の荷物", "数値を表示"])
        .await;
    browser.wait_for("#chart-occupancy canvas").await;
    let labels = browser
        .execute("return window.parcelportCharts.occupancy.series.slice(1).map(s => s.label);")
        .await;
    assert_eq!(labels, json!(["倉庫内", "期限超過"]));
    browser.screenshot(&shots.join("trends-ja.png")).await;
    browser
        .open(&format!("http://{address}/dashboard#member/{member_id}"))
        .await;
    // States read in Japanese too: the parcel's, as the API names it.
    let state = match parcel["state"].as_str().unwrap() {
        "unidentified" => "持ち主不明",
        "received" => "入庫済み",
        "inspected" => "検品済み",
        "stored" => "保管中",
        "packing_requested" => "梱包依頼",
        "reserved" => "発送予約",
        "packed" => "梱包済み",
        "held" => "保留",
        "paid" => "支払済み",
        "quarantined" => "隔離",
        other => panic!("a parcel in the warehouse is not {other}"),
    };
    browser
        .wait_for_text("#member-page", &["チャージ口座", &suite_code, &name, state])
        .await;
    browser.screenshot(&shots.join("member-ja.png")).await;
    browser.click("#lang option[value='en']").await;
    browser.wait_for_text("#tab-trends", &["Trends"]).await;
    eprintln!("dashboard screenshots in {}", shots.display());
}

/// Tuesday 1 December 2026, 10:00 in Tokyo: a receiving day (TIM-2).
fn receiving_day() -> TestClock {
    TestClock::at(Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap())
}

/// Serves `config`, loads the demo, and clicks through the dashboard in headless Chromium.
async fn walk_the_dashboard(config: ServeConfig) {
    let server = Server::open(config).await.unwrap();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    let running = Running::start(server).await;
    let address = running.address;

    let base = format!("http://{address}");
    demo::run(
        demo::DemoOptions::new(base.clone(), admin.clone(), 1),
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    projected(address, &admin).await;

    // What the page must show, from the query API.
    let counts = get(address, "/v1/storage/counts", &admin).await;
    let total = counts["total"].as_i64().unwrap();
    assert!(total >= 40, "{counts:#}");
    let first = get(address, "/v1/storage/parcels?limit=1", &admin).await;
    let parcel_id = first["items"][0]["parcel_id"].as_str().unwrap().to_owned();
    let mut due_total = 0;
    for task in [
        "notices",
        "to_mark_disposable",
        "to_dispose",
        "fees_to_accrue",
        "arrivals_to_notify",
        "unidentified",
    ] {
        let page = get(
            address,
            &format!("/v1/storage/due-today?task={task}&limit=500"),
            &admin,
        )
        .await;
        due_total += page["items"].as_array().unwrap().len();
    }
    let due = get(
        address,
        "/v1/storage/due-today?task=unidentified&limit=500",
        &admin,
    )
    .await;
    let unidentified: Vec<String> = due["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["parcel_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!unidentified.is_empty(), "{due:#}");
    let quotes = get(address, "/v1/billing/open-quotes?limit=500", &admin).await;
    let quote_count = quotes["items"].as_array().unwrap().len();
    assert!(quote_count >= 1, "{quotes:#}");
    let quoted = quotes["items"][0]["shipment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fees = get(address, "/v1/billing/fees?by=type", &admin).await;
    let fee_reason = fees["items"][0]["reason"].as_str().unwrap().to_owned();
    let history = get(
        address,
        &format!("/v1/audit/parcel/{parcel_id}/history"),
        &admin,
    )
    .await;
    let events = history["count"].as_u64().unwrap();

    let browser = Browser::start().await;
    browser.open(&format!("{base}/")).await;
    browser.wait_for_text("#status", &["No token yet"]).await;
    browser.type_into("#token", &admin).await;
    browser.click("#token-save").await;

    // Storage: counts, today's work, the parcels in the warehouse.
    browser
        .wait_for_text(
            "#storage-counts",
            &[&total.to_string(), "parcels in all", "stored"],
        )
        .await;
    let today = browser
        .wait_for_text(
            "#due-today",
            &[
                &format!("{due_total} item(s) need action today."),
                "Unidentified parcels (PAR-1)",
            ],
        )
        .await;
    browser
        .wait_for(&format!("#due-today [data-id='{}']", unidentified[0]))
        .await;
    assert!(today.contains(&format!(
        "Unidentified parcels (PAR-1) · {}",
        unidentified.len()
    )));
    browser.wait_for_text("#due-date", &["2026-12-01"]).await;
    browser
        .wait_for(&format!("#parcels [data-id='{parcel_id}']"))
        .await;
    browser.wait_for_text("#status", &["Updated"]).await;

    // Billing.
    browser.click("#tab-billing").await;
    browser
        .wait_for_text(
            "#billing-open-quotes",
            &[&format!("{quote_count} quote(s) waiting for payment.")],
        )
        .await;
    browser
        .wait_for(&format!("#billing-open-quotes [data-id='{quoted}']"))
        .await;
    browser.wait_for_text("#billing-fees", &[&fee_reason]).await;

    // A parcel's audit trail.
    browser.click("#tab-audit").await;
    browser.type_into("#audit-id", &parcel_id).await;
    browser.click("#audit-search").await;
    browser
        .wait_for_text(
            "#audit-history",
            &[
                &format!("{events} event(s) of parcel {parcel_id}."),
                "parcel.arrived",
            ],
        )
        .await;

    // The business clock: what is due, then 25 simulated days passed from the page, the
    // scheduler doing each day's work on the way.
    browser.click("#tab-schedule").await;
    browser
        .wait_for_text("#schedule-clock", &["2026-12-01", "simulated clock"])
        .await;
    browser
        .wait_for_text("#schedule-pending", &["PAY-2", "hold_unpaid", "later"])
        .await;
    browser.clear("#clock-days").await;
    browser.type_into("#clock-days", "25").await;
    browser.click("#clock-advance").await;
    browser
        .wait_for_text("#status", &["The clock shows 2026-12-26"])
        .await;
    browser
        .wait_for_text(
            "#schedule-done",
            &[
                "send_storage_notice",
                "mark_disposable",
                "hold_unpaid",
                "done",
            ],
        )
        .await;
    let schedule = get(address, "/v1/schedule", &admin).await;
    assert!(
        schedule["pending"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["due_now"] == false),
        "{schedule:#}"
    );

    // An operator acts from the page: disposes of a parcel the scheduler marked disposable,
    // and the view changes.
    projected(address, &admin).await;
    browser.click("#tab-storage").await;
    dispose_one_from_the_page(&browser, address, &admin).await;

    // Projection health.
    browser.click("#tab-projections").await;
    let health = browser
        .wait_for_text(
            "#projections-table",
            &["storage_status", "billing", "audit", "ok"],
        )
        .await;
    assert!(!health.contains("stuck"), "{health}");
    browser
        .wait_for_text("#projections-parked", &["No parked event."])
        .await;

    // The token stays in the tab's sessionStorage across a reload.
    browser.open(&format!("{base}/dashboard")).await;
    browser
        .wait_for_text("#storage-counts", &[&total.to_string(), "parcels in all"])
        .await;

    // Another token, another role: the warehouse may not read billing.
    browser.click("#token-clear").await;
    browser.type_into("#token", &staff).await;
    browser.click("#token-save").await;
    browser.click("#tab-billing").await;
    browser
        .wait_for_text("#billing-open-quotes", &["may not see this"])
        .await;

    drop(browser);
    running.stop().await;
}
