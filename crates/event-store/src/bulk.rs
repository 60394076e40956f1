//! Bulk loading (benchmark harnesses): many serialized events appended in one `COPY`.

use crate::{EventStore, EventStoreError};
use cqrs_es::persist::SerializedEvent;

impl EventStore {
    /// Appends `events` in one `COPY`, in their order, in a transaction of its own; returns
    /// how many rows were written. Only the columns `postgres-es` writes are sent: the event
    /// id, time, position, transaction id and chain hash come from the table's defaults and
    /// trigger, exactly as for an append. No optimistic-concurrency check beyond the primary
    /// key: for loading a backlog into a fresh store, not for commands. Wakes this store's
    /// tailing readers, as an append does.
    pub async fn bulk_append(&self, events: &[SerializedEvent]) -> Result<usize, EventStoreError> {
        let mut text = String::with_capacity(events.len() * 512);
        for event in events {
            copy_row(&mut text, event);
        }
        let mut conn = self.pool().acquire().await?;
        let mut copy = conn
            .copy_in_raw(
                "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata) FROM STDIN",
            )
            .await?;
        copy.send(text.into_bytes()).await?;
        let rows = copy.finish().await?;
        self.committed();
        Ok(usize::try_from(rows).unwrap_or(usize::MAX))
    }

    /// After a bulk load: `VACUUM ANALYZE` the table, so that reads are timed on a table the
    /// planner knows and whose visibility map is set, as in a store that has been running.
    pub async fn vacuum_analyze(&self) -> Result<(), EventStoreError> {
        sqlx::query("VACUUM ANALYZE events")
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// One event as a line of `COPY`'s text format.
fn copy_row(out: &mut String, event: &SerializedEvent) {
    let fields = [
        event.aggregate_type.as_str(),
        event.aggregate_id.as_str(),
        &event.sequence.to_string(),
        event.event_type.as_str(),
        event.event_version.as_str(),
        &event.payload.to_string(),
        &event.metadata.to_string(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        escape(out, field);
    }
    out.push('\n');
}

/// `field` with the characters `COPY`'s text format gives a meaning (backslash, the tab
/// delimiter, line ends) escaped; everything else is taken as is.
fn escape(out: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_syntax() {
        let mut out = String::new();
        escape(&mut out, "a\\b\tc\nd\re \"f\" é");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re \"f\" é");
    }

    #[test]
    fn a_row_has_the_seven_columns_in_order() {
        let event = SerializedEvent::new(
            "p-1".to_owned(),
            3,
            "parcel".to_owned(),
            "parcel.arrived".to_owned(),
            "1".to_owned(),
            serde_json::json!({ "note": "tab\there" }),
            serde_json::json!({ "actor": "dock" }),
        );
        let mut out = String::new();
        copy_row(&mut out, &event);
        assert_eq!(
            out,
            "parcel\tp-1\t3\tparcel.arrived\t1\t{\"note\":\"tab\\\\there\"}\t{\"actor\":\"dock\"}\n"
        );
    }
}
