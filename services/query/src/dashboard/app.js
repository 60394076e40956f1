// parcelport dashboard: reads the query API with the token kept in sessionStorage and redraws
// what is open every 5 seconds. Members are shown by suite code and name, parcels and
// shipments by a short reference, with their ids on hover and on their own pages
// (#parcel/<id>, #member/<id>, #search/<text>). Every value is inserted as text, never as
// HTML. Words come from i18n.js (t), charts from the vendored uPlot.
"use strict";

const TOKEN_KEY = "parcelport.token";
const REFRESH_MS = 5000;
const TABS = ["storage", "trends", "billing", "audit", "schedule", "projections"];
// What is shown: a tab or a page, and how to redraw it.
let current = { panel: "storage", load: () => loadStorage() };
let parcelsCursor = null;
let parcelsExtra = [];
// The scheduler's journal, newest first: the next older page's cursor and the pages opened.
let scheduleNext = null;
let scheduleOlder = [];

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function fill(id, ...nodes) {
  const target = document.getElementById(id);
  target.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
}

// What an operator's last action did stays in the status line a while, over the refreshes.
let note = null;

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

function tell(text, isError) {
  note = { text, isError, until: Date.now() + 15000 };
  setStatus(text, isError);
}

class ApiProblem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || "HTTP " + status);
    this.status = status;
    this.code = body && body.code;
  }
}

async function api(path, command, key) {
  const headers = { Authorization: "Bearer " + token(), Accept: "application/json" };
  const init = { headers };
  if (command !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    // One key per operator intention: a double click, or a retry, acts once.
    headers["Idempotency-Key"] = key;
    init.body = JSON.stringify(command);
  }
  const response = await fetch(path, init);
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) throw new ApiProblem(response.status, body);
  return body;
}

// The rows shown of a list: its first page of LIST_LIMIT. A list is a keyset page; when more
// rows follow, the count says so ("100+").
const LIST_LIMIT = 100;

async function firstPage(path) {
  const page = await api(path + (path.includes("?") ? "&" : "?") + "limit=" + LIST_LIMIT);
  page.shown = page.items.length + (page.next_cursor ? "+" : "");
  return page;
}

function problemNode(error) {
  if (error instanceof ApiProblem && error.status === 403) {
    return el("p", { class: "problem" }, t("problem.forbidden"));
  }
  if (error instanceof ApiProblem && error.status === 401) {
    return el("p", { class: "problem" }, t("problem.unauthorized"));
  }
  return el("p", { class: "problem" }, t("problem.other", { error: error.message }));
}

// A table of `rows` with `columns`: [heading, row => value, optional class].
function table(rows, columns, emptyText) {
  if (!rows || rows.length === 0) return el("p", { class: "empty" }, emptyText || t("empty"));
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, columns.map(([heading]) => el("th", { scope: "col" }, heading)))),
    el(
      "tbody",
      {},
      rows.map((row) =>
        el(
          "tr",
          {},
          columns.map(([, value, cls]) => {
            const shown = value(row);
            return el("td", cls ? { class: cls } : {}, shown === null || shown === undefined ? "—" : shown);
          })
        )
      )
    )
  );
}

function card(label, value, cls) {
  return el("div", { class: "card " + (cls || "") }, el("div", { class: "value" }, value), el("div", { class: "label" }, label));
}

// ---- People and things, by the names people use ----

// Members seen so far: id -> { suite_code, name }. Names come from the query API, which opens
// them for the roles that may read them; an erased member's name is null.
const people = new Map();

async function learn(memberIds) {
  const unknown = [...new Set(memberIds.filter((id) => id && !people.has(id)))];
  for (let at = 0; at < unknown.length; at += 100) {
    const ids = unknown.slice(at, at + 100);
    try {
      const page = await api("/v1/storage/members?limit=500&ids=" + ids.map(encodeURIComponent).join(","));
      for (const member of page.items) people.set(member.member_id, member);
    } catch (_) {
      return; // a role that may not read members sees references only
    }
  }
}

function shortRef(id) {
  return "#" + String(id).slice(-6);
}

function personLabel(member) {
  return member.suite_code + " · " + (member.name === null || member.name === undefined ? t("erased") : member.name);
}

// A member as people name them, linking to their page; the id on hover.
function who(memberId, suiteCode) {
  if (!memberId) {
    return el("span", { class: "who unknown" }, (suiteCode ? suiteCode + " · " : "") + t("unidentified"));
  }
  const member = people.get(memberId);
  const label = member ? personLabel(member) : suiteCode || shortRef(memberId);
  return el("a", { href: "#member/" + encodeURIComponent(memberId), class: "who", title: memberId, "data-member": memberId }, label);
}

function parcelRef(id) {
  return el("a", { href: "#parcel/" + encodeURIComponent(id), class: "ref", title: id, "data-id": id }, shortRef(id));
}

function shipmentRef(id, memberId) {
  const attrs = { class: "ref", title: id, "data-id": id };
  if (!memberId) return el("span", attrs, shortRef(id));
  return el("a", Object.assign({ href: "#member/" + encodeURIComponent(memberId) }, attrs), shortRef(id));
}

// An aggregate named by the schedule or the parked list: the parcel, member or shipment link.
function aggregateRef(type, id) {
  if (type === "parcel") return parcelRef(id);
  if (type === "member") return who(id);
  if (type === "shipment") return shipmentRef(id);
  return el("span", { class: "ref", title: id, "data-id": id }, t("kind." + type) + " " + shortRef(id));
}

const parcelColumns = () => [
  [t("col.parcel"), (p) => parcelRef(p.parcel_id), "ref"],
  [t("col.member"), (p) => who(p.member_id, p.suite_code)],
  [t("col.state"), (p) => stateName(p.state)],
  [t("col.shelf"), (p) => p.location],
  [t("col.received"), (p) => p.received_on],
  [t("col.days_stored"), (p) => (p.storage ? p.storage.days_stored : null), "num"],
  [t("col.days_left"), (p) => (p.storage ? p.storage.days_left : null), "num"],
  [t("col.notice_due"), (p) => (p.notice_due === null ? null : t("notice.days_before", { days: p.notice_due }))],
];

// Each list of the day, and what an operator does about a row of it (through the command API
// on the same listener, with the operator's token).
const dueSections = [
  ["notices", ["action.send_notice", "send-storage-notice", {}]],
  ["to_mark_disposable", ["action.mark_disposable", "mark-disposable", {}]],
  ["to_dispose", ["action.dispose", "dispose", { reason: "past_max_storage" }]],
  ["fees_to_accrue", ["action.accrue_fee", "accrue-storage-fee", {}]],
  ["arrivals_to_notify", null],
  ["unidentified", null],
];

// A button doing `command` on parcel or shipment `id`, then redrawing.
function actionButton(label, path, body, id, today) {
  const button = el("button", { type: "button", class: "action", "data-id": id, "aria-label": label + " " + id }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(path, body, "dashboard:" + path + ":" + today);
      tell(t("action.done", { label, id }), false);
    } catch (error) {
      tell(t("action.refused", { label, id, error: error.message }), true);
    }
    refresh();
  });
  return button;
}

const memberIdsOf = (rows, field) => rows.map((row) => (field ? field(row) : row.member_id)).filter(Boolean);

// ---- Storage ----

async function loadStorage() {
  try {
    const counts = await api("/v1/storage/counts");
    fill(
      "storage-counts",
      card(t("cards.total"), counts.total, "total"),
      Object.entries(counts.states).map(([state, n]) => card(stateName(state), n))
    );
  } catch (error) {
    fill("storage-counts", problemNode(error));
  }
  try {
    const pages = await Promise.all(dueSections.map(([key]) => firstPage("/v1/storage/due-today?task=" + key)));
    const today = pages[0].today;
    await learn(pages.flatMap((page) => memberIdsOf(page.items)));
    document.getElementById("due-date").textContent = "· " + today;
    const more = pages.some((page) => page.next_cursor) ? "+" : "";
    const total = pages.reduce((sum, page) => sum + page.items.length, 0) + more;
    fill(
      "due-today",
      el("p", { id: "due-total" }, t("due.total", { count: total })),
      dueSections.map(([key, action], i) => {
        const columns = parcelColumns().slice(0, 5);
        if (action) {
          const [labelKey, command, body] = action;
          columns.push([
            t("col.action"),
            (p) => actionButton(t(labelKey), "/v1/parcels/" + encodeURIComponent(p.parcel_id) + "/" + command, body, p.parcel_id, today),
          ]);
        }
        return [el("h3", { id: "due-" + key }, t("due." + key) + " · " + pages[i].shown), table(pages[i].items, columns, t("due.none"))];
      })
    );
  } catch (error) {
    fill("due-today", problemNode(error));
  }
  try {
    const past = await firstPage("/v1/storage/past-limit");
    await learn(memberIdsOf(past.items));
    fill(
      "past-limit",
      el("p", { id: "past-limit-count" }, t("past.count", { count: past.shown })),
      table(past.items, parcelColumns(), t("past.none"))
    );
  } catch (error) {
    fill("past-limit", problemNode(error));
  }
  if (parcelsExtra.length > 0) return; // paging by hand: keep the pages shown
  try {
    const page = await api("/v1/storage/parcels?limit=25");
    await learn(memberIdsOf(page.items));
    parcelsCursor = page.next_cursor;
    parcelsExtra = [];
    fill("parcels", table(page.items, parcelColumns(), t("here.none")));
    document.getElementById("parcels-more").hidden = !parcelsCursor;
  } catch (error) {
    fill("parcels", problemNode(error));
  }
}

async function moreParcels() {
  if (!parcelsCursor) return;
  try {
    const first = await api("/v1/storage/parcels?limit=25");
    const page = await api("/v1/storage/parcels?limit=25&cursor=" + encodeURIComponent(parcelsCursor));
    parcelsExtra = parcelsExtra.concat(page.items);
    parcelsCursor = page.next_cursor;
    await learn(memberIdsOf(first.items.concat(parcelsExtra)));
    fill("parcels", table(first.items.concat(parcelsExtra), parcelColumns()));
    document.getElementById("parcels-more").hidden = !parcelsCursor;
  } catch (error) {
    fill("parcels", problemNode(error));
  }
}

// ---- Billing ----

const money = (amount, currency) => (amount === null || amount === undefined ? null : amount + " " + (currency || ""));

async function loadBilling() {
  try {
    const quotes = await firstPage("/v1/billing/open-quotes");
    await learn(memberIdsOf(quotes.items));
    fill(
      "billing-open-quotes",
      el("p", { id: "open-quotes-count" }, t("quotes.count", { count: quotes.shown })),
      table(quotes.items, [
        [t("col.shipment"), (q) => shipmentRef(q.shipment_id, q.member_id), "ref"],
        [t("col.member"), (q) => who(q.member_id)],
        [t("col.total"), (q) => money(q.total, q.currency), "num"],
        [t("col.quoted"), (q) => q.quoted_on],
        [t("col.due"), (q) => q.due_on],
      ], t("quotes.none"))
    );
  } catch (error) {
    fill("billing-open-quotes", problemNode(error));
  }
  try {
    const overdue = await firstPage("/v1/billing/overdue");
    await learn(memberIdsOf(overdue.items, (o) => o.quote.member_id));
    document.getElementById("overdue-date").textContent = "· " + overdue.today;
    fill(
      "billing-overdue",
      table(overdue.items, [
        [t("col.shipment"), (o) => shipmentRef(o.quote.shipment_id, o.quote.member_id), "ref"],
        [t("col.member"), (o) => who(o.quote.member_id)],
        [t("col.total"), (o) => money(o.quote.total, o.quote.currency), "num"],
        [t("col.days_overdue"), (o) => o.days_overdue, "num"],
        [t("col.interest"), (o) => money(o.interest_to_date.amount, o.interest_to_date.currency), "num"],
        [t("col.action"), (o) => actionButton(t("action.hold"), "/v1/shipments/" + encodeURIComponent(o.quote.shipment_id) + "/hold-unpaid", {}, o.quote.shipment_id, overdue.today)],
      ], t("overdue.none"))
    );
  } catch (error) {
    fill("billing-overdue", problemNode(error));
  }
  try {
    const fees = await firstPage("/v1/billing/fees?by=type");
    fill(
      "billing-fees",
      table(fees.items, [
        [t("col.reason"), (f) => f.reason],
        [t("col.charges"), (f) => f.count, "num"],
        [t("col.amount"), (f) => money(f.amount, f.currency), "num"],
      ], t("fees.none"))
    );
  } catch (error) {
    fill("billing-fees", problemNode(error));
  }
  try {
    const refunds = await firstPage("/v1/billing/refunds-due");
    await learn(memberIdsOf(refunds.items));
    fill(
      "billing-refunds",
      table(refunds.items, [
        [t("col.account"), (r) => el("span", { class: "ref", title: r.account_id }, shortRef(r.account_id)), "ref"],
        [t("col.member"), (r) => who(r.member_id)],
        [t("col.due"), (r) => r.due_on],
        [t("col.balance"), (r) => money(r.balance, r.currency), "num"],
      ], t("refunds.none"))
    );
  } catch (error) {
    fill("billing-refunds", problemNode(error));
  }
}

// ---- Audit trail and timelines ----

const timelineColumns = () => [
  ["#", (e) => e.sequence, "num"],
  [t("col.event"), (e) => e.event_type],
  [t("col.recorded"), (e) => new Date(e.recorded_at).toLocaleString(language)],
  [t("col.actor"), (e) => e.actor],
  [t("col.command"), (e) => e.command],
  [t("col.rule"), (e) => e.rule_id],
  [t("col.policy"), (e) => e.policy_version],
];

async function loadAudit() {
  const id = document.getElementById("audit-id").value.trim();
  const type = document.getElementById("audit-type").value;
  if (!id) {
    fill("audit-history", el("p", { class: "empty" }, t("audit.enter")));
    return;
  }
  try {
    const history = await api("/v1/audit/" + encodeURIComponent(type) + "/" + encodeURIComponent(id) + "/history");
    fill(
      "audit-history",
      el("p", { id: "audit-count" }, t("audit.count", { count: history.count, type, id })),
      table(history.items, timelineColumns())
    );
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) {
      fill("audit-history", el("p", { class: "empty" }, t("audit.none", { type, id })));
    } else {
      fill("audit-history", problemNode(error));
    }
  }
}

// ---- A parcel's page ----

async function loadParcelPage(id) {
  let parcel;
  try {
    parcel = await api("/v1/storage/parcels/" + encodeURIComponent(id));
  } catch (error) {
    document.getElementById("parcel-title").textContent = t("parcel.title", { ref: shortRef(id) });
    fill("parcel-facts", error.status === 404 ? el("p", { class: "empty" }, t("parcel.not_found", { id })) : problemNode(error));
    fill("parcel-timeline");
    return;
  }
  await learn(memberIdsOf([parcel]));
  document.getElementById("parcel-title").textContent = t("parcel.title", { ref: shortRef(id) });
  const storage = parcel.storage || {};
  const facts = [
    [t("parcel.id"), el("code", {}, parcel.parcel_id)],
    [t("col.member"), who(parcel.member_id, parcel.suite_code)],
    [t("col.state"), stateName(parcel.state)],
    [t("col.shop"), parcel.shop],
    [t("col.weight"), parcel.weight_g === null ? null : parcel.weight_g + " g"],
    [t("col.shelf"), parcel.location],
    [t("col.received"), parcel.received_on],
    [t("col.days_stored"), storage.days_stored],
    [t("col.days_left"), storage.days_left],
    [t("col.shipment"), parcel.shipment_id ? shipmentRef(parcel.shipment_id, parcel.member_id) : null],
  ];
  fill(
    "parcel-facts",
    el("dl", { class: "facts" }, facts.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value === null || value === undefined ? "—" : value)]))
  );
  try {
    const history = await api("/v1/audit/parcel/" + encodeURIComponent(id) + "/history");
    fill(
      "parcel-timeline",
      el("p", { id: "timeline-count" }, t("parcel.timeline_count", { count: history.count })),
      table(history.items, timelineColumns())
    );
  } catch (error) {
    fill("parcel-timeline", problemNode(error));
  }
}

// ---- A member's page ----

async function loadMemberPage(id) {
  let page;
  try {
    page = await api("/v1/storage/members/" + encodeURIComponent(id));
  } catch (error) {
    document.getElementById("member-title").textContent = shortRef(id);
    fill("member-facts", error.status === 404 ? el("p", { class: "empty" }, t("member.not_found", { id })) : problemNode(error));
    for (const part of ["member-parcels", "member-shipments", "member-account"]) fill(part);
    return;
  }
  const member = page.member;
  people.set(member.member_id, member);
  document.getElementById("member-title").textContent = personLabel(member);
  let account = null;
  let accountProblem = null;
  try {
    account = await api("/v1/billing/accounts/" + encodeURIComponent(page.account_id));
  } catch (error) {
    accountProblem = error;
  }
  fill(
    "member-facts",
    card(t("member.state"), stateName(member.state)),
    card(t("member.registered"), member.registered_on || "—"),
    account ? card(t("member.balance"), money(account.account.balance, account.account.currency), "total") : null,
    card(t("member.id"), el("code", {}, member.member_id))
  );
  fill(
    "member-parcels",
    page.parcels_more ? el("p", {}, t("member.parcels_more", { count: page.parcels.length })) : null,
    table(page.parcels, [
      [t("col.parcel"), (p) => parcelRef(p.parcel_id), "ref"],
      [t("col.state"), (p) => stateName(p.state)],
      [t("col.shop"), (p) => p.shop],
      [t("col.weight"), (p) => (p.weight_g === null ? null : p.weight_g + " g"), "num"],
      [t("col.shelf"), (p) => p.location],
      [t("col.received"), (p) => p.received_on],
      [t("col.days_stored"), (p) => (p.storage ? p.storage.days_stored : null), "num"],
    ], t("member.no_parcels"))
  );
  fill(
    "member-shipments",
    table(page.shipments, [
      [t("col.shipment"), (s) => shipmentRef(s.shipment_id), "ref"],
      [t("col.state"), (s) => stateName(s.state)],
      [t("col.parcels"), (s) => s.parcel_ids.length, "num"],
      [t("col.requested"), (s) => s.requested_on],
      [t("col.shipped"), (s) => s.shipped_on],
      [t("col.tracking"), (s) => s.tracking_number],
    ], t("member.no_shipments"))
  );
  if (accountProblem) {
    fill("member-account", accountProblem.status === 404 ? el("p", { class: "empty" }, t("member.no_account")) : problemNode(accountProblem));
    return;
  }
  fill(
    "member-account",
    el("p", { id: "movements-count" }, t("member.movements", { count: account.movements.length })),
    table(account.movements, [
      ["#", (m) => m.sequence, "num"],
      [t("col.when"), (m) => m.business_on],
      [t("col.movement"), (m) => m.reason],
      [t("col.rule"), (m) => m.rule],
      [t("col.amount"), (m) => money(m.amount, m.currency), "num"],
    ])
  );
}

// ---- Search ----

async function loadSearch(text) {
  document.getElementById("found-title").textContent = t("found.title", { q: text });
  try {
    const found = await api("/v1/search?limit=50&q=" + encodeURIComponent(text));
    await learn(memberIdsOf(found.items));
    if (found.items.length === 0) {
      fill("found-list", el("p", { class: "empty" }, t("found.none", { q: text })));
      return;
    }
    const target = (hit) => {
      if (hit.kind === "parcel") return parcelRef(hit.id);
      if (hit.kind === "shipment") return shipmentRef(hit.id, hit.member_id);
      return who(hit.id, hit.suite_code);
    };
    fill(
      "found-list",
      el("p", { id: "found-count" }, t("found.count", { count: found.items.length })),
      table(found.items, [
        [t("col.kind"), (h) => t("kind." + h.kind)],
        [t("col.found"), target],
        [t("col.member"), (h) => (h.kind === "member" ? null : who(h.member_id, h.suite_code))],
        [t("col.matched"), (h) => t("matched." + h.matched)],
        [t("col.state"), (h) => stateName(h.state)],
      ])
    );
  } catch (error) {
    fill("found-list", problemNode(error));
  }
}

// ---- Trends: charts drawn from the views ----

// The uPlot charts drawn, by name: the test reads their data to compare it with the API's.
const charts = {};
window.parcelportCharts = charts;
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

const dayStamp = (date) => Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) / 1000;

// A figure for chart `name`: its title, the plot (an image with a summary for screen readers)
// and its numbers in a table, folded.
function figure(name, title, summary, rows, columns) {
  const plot = el("div", { class: "plot", id: "chart-" + name, role: "img", "aria-label": title + ". " + summary });
  return el(
    "figure",
    { class: "chart", "data-chart": name },
    el("figcaption", {}, title),
    plot,
    el("p", { class: "summary" }, summary),
    el("details", {}, el("summary", {}, t("chart.numbers")), table(rows, columns))
  );
}

// Draws chart `name` with `data` ([x, ...series]), the x axis named `xLabel` and the series
// `labels`, in its figure.
function plot(name, data, xLabel, labels, kind) {
  const target = document.getElementById("chart-" + name);
  if (charts[name]) charts[name].destroy();
  const width = Math.max(320, Math.min(880, (target.parentElement.clientWidth || 640) - 16));
  const names = DATE_NAMES[language];
  const options = {
    width,
    height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    scales: { x: { time: true } },
    axes: [{}, { size: 76 }],
    series: [{ label: xLabel }].concat(
      labels.map((label, i) => ({
        label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        fill: kind === "area" && i === 0 ? PALETTE[0] + "22" : undefined,
        points: { show: kind === "points" },
      }))
    ),
  };
  if (names) options.fmtDate = (tpl) => uPlot.fmtDate(tpl, names);
  // Two redraws may overlap: the later one's chart replaces the earlier one's.
  target.replaceChildren();
  charts[name] = new uPlot(options, data, target);
}

async function loadTrends() {
  const holder = document.getElementById("charts");
  const parts = {};
  try {
    const daily = await api("/v1/storage/daily?days=90");
    const days = daily.days;
    const x = days.map((d) => dayStamp(d.date));
    const last = days[days.length - 1] || { in_warehouse: 0, past_limit: 0 };
    parts.occupancy = {
      node: figure(
        "occupancy",
        t("chart.occupancy"),
        t("chart.summary_occupancy", { count: last.in_warehouse, past: last.past_limit }),
        days,
        [[t("col.date"), (d) => d.date], [t("series.in_warehouse"), (d) => d.in_warehouse, "num"], [t("series.past_limit"), (d) => d.past_limit, "num"]]
      ),
      draw: () => plot("occupancy", [x, days.map((d) => d.in_warehouse), days.map((d) => d.past_limit)], t("col.date"), [t("series.in_warehouse"), t("series.past_limit")], "area"),
    };
    const sum = (field) => days.reduce((total, d) => total + d[field], 0);
    parts.flow = {
      node: figure(
        "flow",
        t("chart.flow"),
        t("chart.summary_flow", { arrivals: sum("arrivals"), shipments: sum("shipments") }),
        days,
        [[t("col.date"), (d) => d.date], [t("series.arrivals"), (d) => d.arrivals, "num"], [t("series.shipments"), (d) => d.shipments, "num"]]
      ),
      draw: () => plot("flow", [x, days.map((d) => d.arrivals), days.map((d) => d.shipments)], t("col.date"), [t("series.arrivals"), t("series.shipments")], "points"),
    };
  } catch (error) {
    parts.occupancy = { node: el("figure", { class: "chart" }, el("figcaption", {}, t("chart.occupancy")), problemNode(error)) };
  }
  try {
    const fees = await api("/v1/billing/fees?by=month&limit=500");
    // One currency per chart: the one most charges are in (the table lists them all).
    const byCurrency = {};
    for (const fee of fees.items) byCurrency[fee.currency] = (byCurrency[fee.currency] || 0) + fee.count;
    const currency = Object.keys(byCurrency).sort((a, b) => byCurrency[b] - byCurrency[a])[0];
    const shown = fees.items.filter((f) => f.currency === currency);
    const months = [...new Set(shown.map((f) => f.month))].sort();
    const reasons = [...new Set(shown.map((f) => f.reason))].sort();
    const amount = (month, reason) => {
      const fee = shown.find((f) => f.month === month && f.reason === reason);
      return fee ? Number(fee.amount) : 0;
    };
    const title = currency ? t("chart.fees", { currency }) : t("chart.fees_none");
    parts.fees = {
      node: figure("fees", title, t("chart.summary_fees", { months: months.length, types: reasons.length }), fees.items, [
        [t("col.month"), (f) => (f.month || "").slice(0, 7)],
        [t("col.reason"), (f) => f.reason],
        [t("col.charges"), (f) => f.count, "num"],
        [t("col.amount"), (f) => money(f.amount, f.currency), "num"],
      ]),
      draw: months.length ? () => plot("fees", [months.map(dayStamp)].concat(reasons.map((r) => months.map((m) => amount(m, r)))), t("col.month"), reasons, "points") : null,
    };
  } catch (error) {
    parts.fees = { node: el("figure", { class: "chart" }, el("figcaption", {}, t("chart.fees_none")), problemNode(error)) };
  }
  try {
    const history = await api("/v1/projections/lag-history");
    const samples = history.samples;
    const views = samples.length ? samples[0].views.map((v) => v.view) : [];
    const lagOf = (sample, view) => {
      const found = sample.views.find((v) => v.view === view);
      return found ? found.lag_seconds : null;
    };
    const latest = samples.length ? Math.max(...samples[samples.length - 1].views.map((v) => v.lag_seconds)) : 0;
    parts.lag = {
      node: figure("lag", t("chart.lag"), t("chart.summary_lag", { samples: samples.length, lag: latest.toFixed(1) }), samples, [
        [t("col.time"), (s) => new Date(s.at).toLocaleTimeString(language)],
      ].concat(views.map((view) => [view, (s) => lagOf(s, view), "num"]))),
      draw: samples.length ? () => plot("lag", [samples.map((s) => Date.parse(s.at) / 1000)].concat(views.map((view) => samples.map((s) => lagOf(s, view)))), t("col.time"), views, "points") : null,
    };
  } catch (error) {
    parts.lag = { node: el("figure", { class: "chart" }, el("figcaption", {}, t("chart.lag")), problemNode(error)) };
  }
  // Keep an open table open across the redraw.
  const open = new Set([...holder.querySelectorAll("figure[data-chart] details[open]")].map((d) => d.parentElement.dataset.chart));
  for (const name of Object.keys(charts)) {
    charts[name].destroy();
    delete charts[name];
  }
  fill("charts", Object.values(parts).map((part) => part.node));
  for (const name of open) {
    const details = holder.querySelector("figure[data-chart='" + name + "'] details");
    if (details) details.open = true;
  }
  for (const [name, part] of Object.entries(parts)) {
    if (part.draw) part.draw();
    else if (part.node.dataset.chart) document.getElementById("chart-" + name).append(el("p", { class: "empty" }, t("chart.empty")));
  }
}

// ---- Projections ----

async function loadProjections() {
  try {
    const health = await api("/v1/projections");
    fill(
      "projections-table",
      table(health.views, [
        [t("col.view"), (v) => v.view],
        [t("col.status"), (v) => el("span", { class: "badge " + v.status }, v.status)],
        [t("col.serving"), (v) => v.serving, "id"],
        [t("col.last_applied"), (v) => (v.last_applied ? v.last_applied.txid + "/" + v.last_applied.position : null), "id"],
        [t("col.head"), (v) => (v.head ? v.head.txid + "/" + v.head.position : null), "id"],
        [t("col.lag_events"), (v) => (v.lag_events_more ? v.lag_events + "+" : v.lag_events), "num"],
        [t("col.lag_seconds"), (v) => v.lag_seconds.toFixed(1), "num"],
        [t("col.parked"), (v) => (v.parked_more ? v.parked + "+" : v.parked), "num"],
      ])
    );
    const parked = [];
    for (const view of health.views.filter((v) => v.parked > 0)) {
      const list = await firstPage("/v1/projections/" + encodeURIComponent(view.view) + "/parked");
      parked.push(...list.items.map((p) => Object.assign({ view: view.view }, p)));
    }
    fill(
      "projections-parked",
      table(parked, [
        [t("col.view"), (p) => p.view],
        [t("col.event"), (p) => [aggregateRef(p.aggregate_type, p.aggregate_id), " #" + p.sequence], "ref"],
        [t("col.type"), (p) => p.event_type],
        [t("col.reason"), (p) => p.reason],
        [t("col.error"), (p) => p.error],
        [t("col.parked_at"), (p) => new Date(p.parked_at).toLocaleString(language)],
      ], t("projections.no_parked"))
    );
  } catch (error) {
    fill("projections-table", problemNode(error));
    fill("projections-parked");
  }
}

// ---- Schedule ----

async function loadSchedule() {
  try {
    const schedule = await api("/v1/schedule?limit=100");
    const clock = schedule.clock;
    await learn(schedule.pending.concat(schedule.done).filter((p) => p.aggregate_type === "member").map((p) => p.aggregate_id));
    fill(
      "schedule-clock",
      card(t("schedule.today"), clock.today, "total"),
      card(clock.simulated ? t("schedule.simulated") : t("schedule.real"), new Date(clock.now).toLocaleString(language)),
      card(t("schedule.due_now"), schedule.pending.filter((p) => p.due_now).length),
      card(t("schedule.done_page"), schedule.done.length)
    );
    document.getElementById("clock-form").hidden = !clock.simulated;
    fill(
      "schedule-pending",
      table(schedule.pending, [
        [t("col.rule"), (p) => p.rule],
        [t("col.action"), (p) => p.name],
        [t("col.of"), (p) => aggregateRef(p.aggregate_type, p.aggregate_id), "ref"],
        [t("col.due"), (p) => p.due_on],
        [t("col.now"), (p) => (p.due_now ? t("schedule.due_now") : t("schedule.later"))],
        [t("col.act_now"), (p) => doNow(p, clock.today)],
      ], t("schedule.nothing"))
    );
    if (scheduleOlder.length === 0) {
      // Paging by hand keeps the pages shown until the tab is left.
      scheduleNext = schedule.next;
      showDone(schedule.done);
    }
  } catch (error) {
    fill("schedule-clock", problemNode(error));
    fill("schedule-pending");
    fill("schedule-done");
  }
}

// What an operator may do at once, before the scheduler's next tick, about an action due now:
// the command the scheduler would issue, through the command API with the operator's token.
const commandsOfActions = {
  hold_unpaid: (p) => ["/v1/shipments/" + encodeURIComponent(p.aggregate_id) + "/hold-unpaid", {}],
  escalate_claim: (p) => ["/v1/shipments/" + encodeURIComponent(p.aggregate_id) + "/escalate-claim", { claim_id: p.subject }],
  remind_payment: (p) => ["/v1/shipments/" + encodeURIComponent(p.aggregate_id) + "/remind-payment", {}],
  send_dunning_notice: (p) => ["/v1/shipments/" + encodeURIComponent(p.aggregate_id) + "/send-dunning-notice", {}],
  check_document_expiry: (p) => ["/v1/members/" + encodeURIComponent(p.aggregate_id) + "/check-document-expiry", {}],
  lapse_auto_ship: (p) => ["/v1/members/" + encodeURIComponent(p.aggregate_id) + "/lapse-auto-ship", {}],
  cancel_expected_parcel: (p) => ["/v1/parcels/" + encodeURIComponent(p.aggregate_id) + "/cancel-expected", {}],
  send_storage_notice: (p) => ["/v1/parcels/" + encodeURIComponent(p.aggregate_id) + "/send-storage-notice", {}],
  mark_disposable: (p) => ["/v1/parcels/" + encodeURIComponent(p.aggregate_id) + "/mark-disposable", {}],
  accrue_storage_fee: (p) => ["/v1/parcels/" + encodeURIComponent(p.aggregate_id) + "/accrue-storage-fee", {}],
};

function doNow(pending, today) {
  const command = commandsOfActions[pending.name];
  if (!pending.due_now || !command) return null;
  const [path, body] = command(pending);
  return actionButton(t("action.do_now"), path, body, pending.aggregate_id, today);
}

const doneColumns = () => [
  [t("col.rule"), (d) => d.rule],
  [t("col.action"), (d) => d.action],
  [t("col.of"), (d) => aggregateRef(d.aggregate_type, d.aggregate_id), "ref"],
  [t("col.due"), (d) => d.due_on],
  [t("col.done_at"), (d) => new Date(d.done_at).toLocaleString(language)],
  [t("col.outcome"), (d) => el("span", { class: "badge " + d.outcome }, d.outcome)],
  [t("col.reason"), (d) => d.reason],
];

let scheduleFirst = [];

function showDone(latest) {
  scheduleFirst = latest;
  const shown = latest.concat(scheduleOlder);
  fill(
    "schedule-done",
    el("p", { id: "schedule-shown" }, t(scheduleNext ? "schedule.shown_more" : "schedule.shown_all", { count: shown.length })),
    table(shown, doneColumns(), t("schedule.idle"))
  );
  document.getElementById("schedule-more").hidden = !scheduleNext;
}

async function olderSchedule() {
  const button = document.getElementById("schedule-more");
  if (!scheduleNext || button.disabled) return;
  button.disabled = true;
  try {
    const page = await api("/v1/schedule?limit=100&after=" + encodeURIComponent(scheduleNext));
    scheduleOlder = scheduleOlder.concat(page.done);
    scheduleNext = page.next;
    showDone(scheduleFirst);
  } catch (error) {
    fill("schedule-done", problemNode(error));
  } finally {
    button.disabled = false;
  }
}

async function advanceClock(event) {
  event.preventDefault();
  const days = Number(document.getElementById("clock-days").value);
  const button = document.getElementById("clock-advance");
  button.disabled = true;
  scheduleOlder = [];
  setStatus(t("schedule.advancing", { days }), false);
  try {
    const advanced = await api("/v1/clock/advance", { days }, "dashboard:advance:" + Date.now());
    tell(t("schedule.advanced", { today: advanced.clock.today, count: advanced.report.journaled.length }), false);
  } catch (error) {
    tell(t("schedule.advance_failed", { error: error.message }), true);
  }
  button.disabled = false;
  refresh();
}

// ---- What is shown, and moving around ----

const loaders = {
  storage: loadStorage,
  trends: loadTrends,
  billing: loadBilling,
  audit: loadAudit,
  schedule: loadSchedule,
  projections: loadProjections,
};

async function refresh() {
  if (!token()) {
    setStatus(t("status.no_token"), false);
    return;
  }
  await current.load();
  if (note && Date.now() < note.until) setStatus(note.text, note.isError);
  else setStatus(t("status.updated", { time: new Date().toLocaleTimeString(language) }), false);
}

function showPanel(panel, tab) {
  for (const button of document.querySelectorAll("#tabs button")) {
    const selected = button.dataset.tab === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected || (!tab && button.dataset.tab === "storage") ? 0 : -1;
  }
  for (const section of document.querySelectorAll(".panel")) {
    section.hidden = section.id !== panel;
  }
}

// Shows what the address names: a tab (#storage, #trends, ...), a parcel (#parcel/<id>), a
// member (#member/<id>) or a search (#search/<text>).
function route() {
  const hash = location.hash.slice(1);
  const slash = hash.indexOf("/");
  const kind = slash < 0 ? hash : hash.slice(0, slash);
  const arg = slash < 0 ? "" : decodeURIComponent(hash.slice(slash + 1));
  scheduleOlder = [];
  if (kind === "parcel" && arg) current = { panel: "parcel-page", load: () => loadParcelPage(arg) };
  else if (kind === "member" && arg) current = { panel: "member-page", load: () => loadMemberPage(arg) };
  else if (kind === "search" && arg) current = { panel: "found", load: () => loadSearch(arg) };
  else {
    const tab = TABS.includes(kind) ? kind : "storage";
    current = { panel: tab, tab, load: loaders[tab] };
  }
  showPanel(current.panel, current.tab);
  refresh();
}

function showTab(name) {
  if (location.hash === "#" + name) route();
  else location.hash = name;
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const value = input.value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  input.value = "";
  people.clear();
  refresh();
});
document.getElementById("token-clear").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  people.clear();
  for (const section of document.querySelectorAll(".panel")) {
    for (const part of section.querySelectorAll("div[id]")) part.replaceChildren();
  }
  refresh();
});
document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = document.getElementById("search").value.trim();
  if (!text) return;
  const hash = "search/" + encodeURIComponent(text);
  if (location.hash === "#" + hash) route();
  else location.hash = hash;
});
document.getElementById("audit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadAudit();
});
document.getElementById("lang").addEventListener("change", (event) => {
  setLanguage(event.target.value);
  refresh();
});
document.getElementById("parcels-more").addEventListener("click", moreParcels);
document.getElementById("schedule-more").addEventListener("click", olderSchedule);
document.getElementById("clock-form").addEventListener("submit", advanceClock);
const tabButtons = [...document.querySelectorAll("#tabs button")];
for (const button of tabButtons) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}
// The tabs as a keyboard user expects them: arrows, Home and End move between them.
document.getElementById("tabs").addEventListener("keydown", (event) => {
  const at = tabButtons.indexOf(document.activeElement);
  if (at < 0) return;
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabButtons.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const next = tabButtons[(to + tabButtons.length) % tabButtons.length];
  next.focus();
  showTab(next.dataset.tab);
});
window.addEventListener("hashchange", route);

translateStatic();
route();
setInterval(refresh, REFRESH_MS);
