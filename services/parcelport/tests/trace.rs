//! One command's trace, end to end (issue #15): a client sends a command with a W3C
//! `traceparent`; the API's span continues it, the stored event records it, the relay publishes
//! it as the CloudEvents distributed-tracing extension and joins the trace with its publish,
//! every projector, fed from the store or from JetStream, applies the event in a span of the
//! same trace, and the notifier delivers the notice the event calls for in it too. The spans are read back from an in-memory exporter: this binary holds one
//! test, since the process has one tracing subscriber.

mod common;

use event_store::{EventStore, GlobalCursor, StoredEvent};
use hyper::Method;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use parcelport::{NotifierConfig, ServeConfig, Server, StoreChoice};
use projection_runtime::{JetStreamFeed, JetStreamOptions, Projector, ProjectorOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The client's trace and its own span: what the command continues.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// `POST path` with `body`, in the client's trace: the status and the answer.
async fn post_traced(address: SocketAddr, token: &str, path: &str, body: Value) -> (u16, Value) {
    let traceparent = format!("00-{TRACE_ID}-{CLIENT_SPAN}-01");
    common::call_with(
        address,
        Method::POST,
        path,
        token,
        Some(body),
        &[("traceparent", &traceparent)],
    )
    .await
}

/// Waits (at most a minute) until `found` finds something, checking every 50 ms.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut found: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = found().await {
            return value;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The finished spans named `name` in the client's trace.
fn spans_named(exporter: &InMemorySpanExporter, name: &str) -> Vec<SpanData> {
    let trace = TraceId::from_hex(TRACE_ID).unwrap();
    exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|span| span.name == name && span.span_context.trace_id() == trace)
        .collect()
}

/// The string attribute `key` of `span`.
fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_commands_trace_runs_from_http_through_the_event_and_the_cloud_event_to_every_view() {
    let exporter = InMemorySpanExporter::default();
    telemetry::init_logs_exporting_to("parcelport", telemetry::LogFormat::Json, exporter.clone());
    let nats = testkit::NatsServer::start();
    let db = testkit::ScratchDb::create("trace").await;
    let views = testkit::ScratchDb::create("trace_views").await;
    let dir = tempfile::tempdir().expect("a data directory");
    // A webhook that takes every notice.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/notices", hook.local_addr().unwrap());
    let hook_app = axum::Router::new().route(
        "/notices",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(hook, hook_app).await });
    let config = ServeConfig {
        store: StoreChoice::Postgres {
            database_url: db.url().to_owned(),
            nats_url: Some(nats.url()),
        },
        max_connections: 8,
        notifier: Some(NotifierConfig {
            channels: vec![notifier::ChannelConfig::Webhook {
                url: hook_url,
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            }],
            options: notifier::NotifierOptions {
                interval: Duration::from_millis(50),
                ..notifier::NotifierOptions::default()
            },
        }),
        ..ServeConfig::embedded(dir.path())
    };
    let server = Server::open(config).await.expect("serve");
    let admin = common::secret(&server, "admin");
    let running = common::Running::start(server).await;
    let address = running.address;

    // The command, in the client's trace.
    let (status, registered) = post_traced(
        address,
        &admin,
        "/v1/members",
        json!({"name": "Trace Test", "birth_date": "1990-01-01", "email": "trace@example.jp",
               "forwarding_only_accepted": true}),
    )
    .await;
    assert_eq!(status, 201, "{registered:#}");
    let member = registered["id"]
        .as_str()
        .expect("the member's id")
        .to_owned();

    // The API's span, named by its route, continues the client's.
    let request = eventually("the request's span", || async {
        spans_named(&exporter, "POST /v1/members")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        request.parent_span_id,
        SpanId::from_hex(CLIENT_SPAN).unwrap()
    );
    let request_span = request.span_context.span_id().to_string();
    let handed_on = format!("00-{TRACE_ID}-{request_span}-01");

    // The stored event records the request's span as its trace context.
    let store = EventStore::connect(db.url(), 2).await.expect("the store");
    let stored: Vec<StoredEvent> = store
        .read_after(GlobalCursor::START, 1_000)
        .await
        .expect("the events")
        .into_iter()
        .filter(|event| event.aggregate_id == member)
        .collect();
    let registration = stored
        .iter()
        .find(|event| event.event_type == "member.registered")
        .expect("the registration is stored");
    assert_eq!(registration.metadata["traceparent"], handed_on.as_str());
    let event_id = registration.event_id.to_string();

    // The relay publishes it as the CloudEvents distributed-tracing extension, in a span of
    // the trace.
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let published: Value = eventually("the CloudEvent", || async {
        let stream = jetstream.get_stream("PARCELPORT").await.ok()?;
        let subject = format!("parcelport.member.{member}.>");
        let message = stream
            .get_first_raw_message_by_subject(&subject, 1)
            .await
            .ok()?;
        serde_json::from_slice(&message.payload).ok()
    })
    .await;
    assert_eq!(published["id"], event_id.as_str());
    assert_eq!(published["traceparent"], handed_on.as_str());
    let publish = eventually("the relay's span", || async {
        spans_named(&exporter, "relay.publish")
            .into_iter()
            .find(|span| attribute(span, "messaging.message.id").as_deref() == Some(&event_id))
    })
    .await;
    assert_eq!(publish.parent_span_id, request.span_context.span_id());

    // Every view the store feeds applies it in the trace: the audit view and the notices.
    for view in ["audit", "notices"] {
        let applied = eventually(&format!("{view}'s span"), || async {
            spans_named(&exporter, "projection.apply")
                .into_iter()
                .find(|span| {
                    attribute(span, "projection").as_deref() == Some(view)
                        && attribute(span, "event_id").as_deref() == Some(&event_id)
                })
        })
        .await;
        assert_eq!(
            applied.parent_span_id,
            request.span_context.span_id(),
            "{view}"
        );
    }

    // A projector fed from JetStream continues it from the CloudEvent.
    let before = spans_named(&exporter, "projection.apply").len();
    let pool = sqlx::PgPool::connect(views.url()).await.unwrap();
    let feed = JetStreamFeed::new(JetStreamOptions::new(nats.url(), "trace-audit"));
    let mut projector = Projector::new(
        pool.clone(),
        projections::audit::Audit,
        feed,
        ProjectorOptions::default(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        projector.catch_up().await.expect("the projector");
        let applied = spans_named(&exporter, "projection.apply")
            .into_iter()
            .skip(before)
            .any(|span| attribute(&span, "event_id").as_deref() == Some(&event_id));
        if applied {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the JetStream projector made no span"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A parcel arrives for the member, in the same trace: its arrival notice (PAR-3) is
    // delivered in a span of the trace, a child of that request's span.
    let suite_code = registered["result"]["suite_code"]
        .as_str()
        .expect("the suite code");
    let (status, arrived) = post_traced(
        address,
        &admin,
        "/v1/parcels",
        json!({"label": suite_code, "weight": 1200, "shop": "trace-shop",
               "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100}}),
    )
    .await;
    assert_eq!(status, 201, "{arrived:#}");
    let arrival = eventually("the arrival's span", || async {
        spans_named(&exporter, "POST /v1/parcels")
            .into_iter()
            .next()
    })
    .await;
    let delivered = eventually("the notifier's span", || async {
        spans_named(&exporter, "notifier.deliver")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(delivered.parent_span_id, arrival.span_context.span_id());

    running.stop().await;
    pool.close().await;
}
