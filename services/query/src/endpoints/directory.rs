//! `/v1/storage/members…` and `/v1/search`: members, parcels and shipments as people name them.
//! A member is shown by suite code and name; the name is opened here from the sealed copy the
//! view keeps (`crates/personal-data`), so it is `null` once the member's data is erased. The
//! search takes what a person at the counter has: a suite code, a name or part of one, a
//! tracking number, a parcel, shipment or member id.

use super::roles;
use super::storage::{other_member, own_member};
use crate::params::{invalid_parameter, limit, page, view_failed, PageOf, Params};
use crate::QueryState;
use axum::extract::{Path, State};
use axum::Json;
use chrono::NaiveDate;
use projections::storage_status::{
    MemberFilter, MemberRow, ParcelStorage, ShipmentFilter, ShipmentRow,
};
use projections::Page;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use web::auth::Caller;
use web::problem::Problem;

/// The cursor kind of the member list.
const MEMBERS: &str = "members";
/// Where a member's name is in their registration: the label it was sealed under.
const NAME: &str = "/registered/name";
/// The longest search text, in characters.
pub(crate) const QUERY_MAX_CHARS: usize = 100;
/// Parcels and shipments shown on a member's page at most.
const MEMBER_PAGE_ROWS: u32 = 500;
/// Members whose names are opened at once while searching by name.
const NAME_CHUNK: u32 = 500;

/// A member as people read them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Member {
    member_id: String,
    suite_code: String,
    /// `None` once their personal data is erased.
    name: Option<String>,
    state: String,
    registered_on: Option<NaiveDate>,
}

/// `rows` with their names opened.
async fn named(state: &QueryState, rows: Vec<MemberRow>) -> Result<Vec<Member>, Problem> {
    let sealed: Vec<(String, String)> = rows
        .iter()
        .filter_map(|row| Some((row.member_id.clone(), row.name.clone()?)))
        .collect();
    let opened = state
        .personal
        .open_texts(NAME, &sealed)
        .await
        .map_err(keys_failed)?;
    let mut names: BTreeMap<String, Option<String>> = sealed
        .into_iter()
        .map(|(member, _)| member)
        .zip(opened)
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| Member {
            name: names.remove(&row.member_id).flatten(),
            member_id: row.member_id,
            suite_code: row.suite_code,
            state: row.state,
            registered_on: row.registered_on,
        })
        .collect())
}

fn keys_failed(error: personal_data::PersonalDataError) -> Problem {
    tracing::error!(%error, "the members' keys could not be read");
    Problem::internal()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembersQuery {
    ids: Option<String>,
    suite_code: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(super) async fn members(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<MembersQuery>,
) -> Result<Json<PageOf<Member>>, Problem> {
    caller.require(roles::PEOPLE)?;
    let mut ids: Vec<String> = query
        .ids
        .as_deref()
        .map(|ids| {
            ids.split(',')
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // A member reads themselves only.
    if let Some(own) = own_member(&caller) {
        if ids.iter().any(|id| *id != own) {
            return Err(other_member());
        }
        ids = vec![own];
    }
    let page: Page<String> = page(MEMBERS, query.limit, query.cursor.as_deref())?;
    let filter = MemberFilter {
        ids: &ids,
        suite_code: query.suite_code.as_deref().filter(|c| !c.is_empty()),
    };
    let rows = state
        .views
        .members(filter, &page)
        .await
        .map_err(view_failed)?;
    let members = named(&state, rows).await?;
    Ok(Json(PageOf::keyed(members, MEMBERS, &page, |m| {
        m.member_id.clone()
    })))
}

/// A member's page: who they are, their parcels wherever they are, and their shipments.
#[derive(Debug, Serialize)]
pub(crate) struct MemberPage {
    member: Member,
    /// Their parcels in parcel id order, the first [`MEMBER_PAGE_ROWS`].
    parcels: Vec<ParcelStorage>,
    /// More parcels follow (`/v1/storage/parcels?member_id=` pages those in the warehouse).
    parcels_more: bool,
    /// Their shipments, newest first, the first [`MEMBER_PAGE_ROWS`].
    shipments: Vec<ShipmentRow>,
    /// More shipments follow.
    shipments_more: bool,
    /// Their charge account's id (`/v1/billing/accounts/{account_id}`).
    account_id: String,
}

pub(super) async fn member(
    State(state): State<QueryState>,
    caller: Caller,
    Path(member_id): Path<String>,
) -> Result<Json<MemberPage>, Problem> {
    caller.require(roles::PEOPLE)?;
    let not_found = || Problem::not_found("member.not_found", format!("no member {member_id}"));
    // Another member is answered as missing: their existence is not theirs to know.
    if own_member(&caller).is_some_and(|own| own != member_id) {
        return Err(not_found());
    }
    let ids = [member_id.clone()];
    let filter = MemberFilter {
        ids: &ids,
        ..MemberFilter::default()
    };
    let rows = state
        .views
        .members(filter, &Page::first(1))
        .await
        .map_err(view_failed)?;
    let member = named(&state, rows)
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let mut parcels = state
        .views
        .member_parcels(
            &member_id,
            &Page::first(MEMBER_PAGE_ROWS + 1),
            state.today(),
            &state.policy,
        )
        .await
        .map_err(view_failed)?;
    let parcels_more = parcels.len() > MEMBER_PAGE_ROWS as usize;
    parcels.truncate(MEMBER_PAGE_ROWS as usize);
    let filter = ShipmentFilter {
        member_id: Some(&member_id),
        ..ShipmentFilter::default()
    };
    let mut shipments = state
        .views
        .shipments(filter, MEMBER_PAGE_ROWS + 1)
        .await
        .map_err(view_failed)?;
    let shipments_more = shipments.len() > MEMBER_PAGE_ROWS as usize;
    shipments.truncate(MEMBER_PAGE_ROWS as usize);
    Ok(Json(MemberPage {
        account_id: format!("acct-{member_id}"),
        member,
        parcels,
        parcels_more,
        shipments,
        shipments_more,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    q: String,
    limit: Option<u32>,
}

/// What a search found.
#[derive(Debug, Serialize)]
pub(crate) struct Hit {
    /// `member`, `parcel` or `shipment`.
    kind: &'static str,
    /// Its id.
    id: String,
    /// What matched: `member_id`, `suite_code`, `name`, `parcel_id`, `shipment_id` or
    /// `tracking_number`.
    matched: &'static str,
    /// Its state.
    state: String,
    /// The member it is or belongs to, when known.
    member_id: Option<String>,
    /// That member's suite code.
    suite_code: Option<String>,
    /// That member's name (`None` once erased).
    name: Option<String>,
}

/// The hits of a search, best first: exact ids, suite codes and tracking numbers, then names.
#[derive(Debug, Serialize)]
pub(crate) struct Found {
    /// The text searched for.
    q: String,
    /// The hits, `limit` at most.
    items: Vec<Hit>,
}

pub(super) async fn search(
    State(state): State<QueryState>,
    caller: Caller,
    Params(query): Params<SearchQuery>,
) -> Result<Json<Found>, Problem> {
    caller.require(roles::SEARCH)?;
    let chars = query.q.chars().count();
    if !(1..=QUERY_MAX_CHARS).contains(&chars) {
        return Err(invalid_parameter(format!(
            "q has {chars} characters; 1 to {QUERY_MAX_CHARS}"
        )));
    }
    let wanted = limit(query.limit)? as usize;
    let text = query.q.trim();
    let mut hits: Vec<Hit> = Vec::new();
    if !text.is_empty() {
        exact_hits(&state, text, &mut hits).await?;
        if hits.len() < wanted {
            name_hits(&state, text, wanted - hits.len(), &mut hits).await?;
        }
    }
    hits.truncate(wanted);
    name_the_members(&state, &mut hits).await?;
    Ok(Json(Found {
        q: query.q,
        items: hits,
    }))
}

/// The hits whose id, suite code or tracking number is `text`.
async fn exact_hits(state: &QueryState, text: &str, hits: &mut Vec<Hit>) -> Result<(), Problem> {
    let member_hit = |row: MemberRow, matched| Hit {
        kind: "member",
        id: row.member_id.clone(),
        matched,
        state: row.state,
        member_id: Some(row.member_id),
        suite_code: Some(row.suite_code),
        name: None,
    };
    let ids = [text.to_owned()];
    let by_id = MemberFilter {
        ids: &ids,
        ..MemberFilter::default()
    };
    let by_code = MemberFilter {
        suite_code: Some(text),
        ..MemberFilter::default()
    };
    for (filter, matched) in [(by_id, "member_id"), (by_code, "suite_code")] {
        let rows = state
            .views
            .members(filter, &Page::first(10))
            .await
            .map_err(view_failed)?;
        hits.extend(rows.into_iter().map(|row| member_hit(row, matched)));
    }
    if let Some(parcel) = state
        .views
        .parcel(text, state.today(), &state.policy)
        .await
        .map_err(view_failed)?
    {
        hits.push(Hit {
            kind: "parcel",
            id: parcel.parcel_id,
            matched: "parcel_id",
            state: parcel.state,
            member_id: parcel.member_id,
            suite_code: parcel.suite_code,
            name: None,
        });
    }
    let by_id = ShipmentFilter {
        shipment_id: Some(text),
        ..ShipmentFilter::default()
    };
    let by_tracking = ShipmentFilter {
        tracking_number: Some(text),
        ..ShipmentFilter::default()
    };
    for (filter, matched) in [(by_id, "shipment_id"), (by_tracking, "tracking_number")] {
        let rows = state
            .views
            .shipments(filter, 10)
            .await
            .map_err(view_failed)?;
        hits.extend(rows.into_iter().map(|row| Hit {
            kind: "shipment",
            id: row.shipment_id,
            matched,
            state: row.state,
            member_id: row.member_id,
            suite_code: None,
            name: None,
        }));
    }
    Ok(())
}

/// Up to `wanted` members whose name contains `text` (without case), read 500 at a time and
/// opened with one look-up of keys per chunk: a search by name costs a pass over the members
/// until enough are found.
async fn name_hits(
    state: &QueryState,
    text: &str,
    wanted: usize,
    hits: &mut Vec<Hit>,
) -> Result<(), Problem> {
    let needle = text.to_lowercase();
    let mut page = Page::first(NAME_CHUNK);
    loop {
        let rows = state
            .views
            .members(MemberFilter::default(), &page)
            .await
            .map_err(view_failed)?;
        let exhausted = rows.len() < NAME_CHUNK as usize;
        page.after = rows.last().map(|row| row.member_id.clone());
        for member in named(state, rows).await? {
            let matches = member
                .name
                .as_deref()
                .is_some_and(|name| name.to_lowercase().contains(&needle));
            let already = hits
                .iter()
                .any(|h| h.kind == "member" && h.id == member.member_id);
            if matches && !already {
                hits.push(Hit {
                    kind: "member",
                    id: member.member_id.clone(),
                    matched: "name",
                    state: member.state,
                    member_id: Some(member.member_id),
                    suite_code: Some(member.suite_code),
                    name: member.name,
                });
                if hits.len() >= wanted {
                    return Ok(());
                }
            }
        }
        if exhausted {
            return Ok(());
        }
    }
}

/// Fills in each hit's member suite code and name, with one look-up.
async fn name_the_members(state: &QueryState, hits: &mut [Hit]) -> Result<(), Problem> {
    let mut ids: Vec<String> = hits.iter().filter_map(|h| h.member_id.clone()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let filter = MemberFilter {
        ids: &ids,
        ..MemberFilter::default()
    };
    let rows = state
        .views
        .members(
            filter,
            &Page::first(u32::try_from(ids.len()).unwrap_or(u32::MAX)),
        )
        .await
        .map_err(view_failed)?;
    let members: BTreeMap<String, Member> = named(state, rows)
        .await?
        .into_iter()
        .map(|m| (m.member_id.clone(), m))
        .collect();
    for hit in hits {
        if let Some(member) = hit.member_id.as_ref().and_then(|id| members.get(id)) {
            hit.suite_code = Some(member.suite_code.clone());
            hit.name.clone_from(&member.name);
        }
    }
    Ok(())
}
