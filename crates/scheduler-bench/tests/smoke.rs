//! The harness works end to end on a small warehouse on the embedded store: it seeds, runs the
//! backlog, fires a day's work and reports it. No timing is asserted.

use chrono::NaiveDate;
use domain::Policy;
use scheduler_bench::{run, Config, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_200_parcels_on_sqlite() {
    let config = Config {
        plan: Plan {
            parcels: 200,
            members: 20,
            spread_days: 40,
            extended_percent: 10,
            day: NaiveDate::from_ymd_opt(2026, 6, 15).unwrap(),
            concurrency: 4,
        },
        policy: Policy::cn_agency(),
        database_url: None,
        data_dir: None,
        keep: false,
        progress: false,
        days: 2,
        wait_quiet: None,
    };
    let report = run(&config).await.expect("the harness runs");
    assert_eq!(report.store, "sqlite");
    assert_eq!(report.seeding.parcels, 200);
    assert!(report.seeding.extended > 0);
    assert!(report.backlog.actions > 0, "the seeded history left work");
    assert_eq!(report.days.len(), 2);
    let day = &report.days[0];
    assert!(day.journaled > 0, "the day had work: {day:?}");
    assert_eq!(day.failed, 0);
    assert_eq!(day.left_after, 0, "one tick did the day's work");
    assert!(report.days[1].journaled > 0, "the next day had work too");
    let sto_2 = |action: &str| {
        day.by_rule
            .iter()
            .find(|r| r.rule == "STO-2" && r.action == action)
            .map_or(0, |r| r.done)
    };
    assert!(sto_2("send_storage_notice") > 0);
    assert!(sto_2("mark_disposable") > 0);
    assert_eq!(day.baseline.inserts, day.journaled);
    assert!(day.memory_after.peak_kib > 0);
    let text = report.markdown();
    assert!(text.contains("plain INSERTs"), "{text}");
}
