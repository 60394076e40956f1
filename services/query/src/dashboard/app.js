// parcelport ops dashboard: reads the query API with the token kept in sessionStorage and
// redraws the open tab every 5 seconds. Every value is inserted as text, never as HTML.
"use strict";

const TOKEN_KEY = "parcelport.token";
const REFRESH_MS = 5000;
let activeTab = "storage";
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
    return el("p", { class: "problem" }, "Your token's role may not see this.");
  }
  if (error instanceof ApiProblem && error.status === 401) {
    return el("p", { class: "problem" }, "The token is not valid.");
  }
  return el("p", { class: "problem" }, "Could not load: " + error.message);
}

// A table of `rows` with `columns`: [heading, row => value, optional class].
function table(rows, columns, emptyText) {
  if (!rows || rows.length === 0) return el("p", { class: "empty" }, emptyText || "Nothing.");
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, columns.map(([heading]) => el("th", {}, heading)))),
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

const parcelColumns = [
  ["Parcel", (p) => p.parcel_id, "id"],
  ["Member", (p) => p.member_id, "id"],
  ["State", (p) => p.state],
  ["Shelf", (p) => p.location],
  ["Received", (p) => p.received_on],
  ["Days stored", (p) => (p.storage ? p.storage.days_stored : null), "num"],
  ["Days left", (p) => (p.storage ? p.storage.days_left : null), "num"],
  ["Notice due", (p) => (p.notice_due === null ? null : p.notice_due + " days before")],
];

// Each list of the day, and what an operator does about a row of it (through the command API
// on the same listener, with the operator's token).
const dueSections = [
  ["notices", "Storage notices to send (STO-2)", ["Send notice", "send-storage-notice", {}]],
  ["to_mark_disposable", "Past the limit: mark disposable (STO-2)", ["Mark disposable", "mark-disposable", {}]],
  ["to_dispose", "Marked disposable: decide disposal (DSP-1)", ["Dispose", "dispose", { reason: "past_max_storage" }]],
  ["fees_to_accrue", "Extended storage fees to accrue (STO-3)", ["Accrue fee", "accrue-storage-fee", {}]],
  ["arrivals_to_notify", "Arrivals to notify (PAR-3)", null],
  ["unidentified", "Unidentified parcels (PAR-1)", null],
];

// A button doing `command` on parcel or shipment `id`, then redrawing the tab.
function actionButton(label, path, body, id, today) {
  const button = el("button", { type: "button", class: "action", "data-id": id, "aria-label": label + " " + id }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(path, body, "dashboard:" + path + ":" + today);
      tell(label + ": done for " + id + ".", false);
    } catch (error) {
      tell(label + " refused for " + id + ": " + error.message, true);
    }
    refresh();
  });
  return button;
}

async function loadStorage() {
  try {
    const counts = await api("/v1/storage/counts");
    fill(
      "storage-counts",
      card("parcels in all", counts.total, "total"),
      Object.entries(counts.states).map(([state, n]) => card(state, n))
    );
  } catch (error) {
    fill("storage-counts", problemNode(error));
  }
  try {
    const pages = await Promise.all(dueSections.map(([key]) => firstPage("/v1/storage/due-today?task=" + key)));
    const due = { today: pages[0].today };
    dueSections.forEach(([key], i) => (due[key] = pages[i]));
    document.getElementById("due-date").textContent = "on " + due.today;
    const more = pages.some((page) => page.next_cursor) ? "+" : "";
    const total = pages.reduce((sum, page) => sum + page.items.length, 0) + more;
    fill(
      "due-today",
      el("p", { id: "due-total" }, total + " item(s) need action today."),
      dueSections.map(([key, heading, action]) => {
        const columns = parcelColumns.slice(0, 5);
        if (action) {
          const [label, command, body] = action;
          columns.push([
            "Action",
            (p) => actionButton(label, "/v1/parcels/" + encodeURIComponent(p.parcel_id) + "/" + command, body, p.parcel_id, due.today),
          ]);
        }
        return [el("h3", { id: "due-" + key }, heading + " · " + due[key].shown), table(due[key].items, columns, "None today.")];
      })
    );
  } catch (error) {
    fill("due-today", problemNode(error));
  }
  try {
    const past = await firstPage("/v1/storage/past-limit");
    fill(
      "past-limit",
      el("p", { id: "past-limit-count" }, past.shown + " parcel(s) past their free storage limit (STO-2)."),
      table(past.items, parcelColumns, "No parcel past its limit.")
    );
  } catch (error) {
    fill("past-limit", problemNode(error));
  }
  if (parcelsExtra.length > 0) return; // paging by hand: keep the pages shown
  try {
    const page = await api("/v1/storage/parcels?limit=25");
    parcelsCursor = page.next_cursor;
    parcelsExtra = [];
    fill("parcels", table(page.items, parcelColumns, "No parcel in the warehouse."));
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
    fill("parcels", table(first.items.concat(parcelsExtra), parcelColumns));
    document.getElementById("parcels-more").hidden = !parcelsCursor;
  } catch (error) {
    fill("parcels", problemNode(error));
  }
}

async function loadBilling() {
  const money = (amount, currency) => (amount === null || amount === undefined ? null : amount + " " + (currency || ""));
  try {
    const quotes = await firstPage("/v1/billing/open-quotes");
    fill(
      "billing-open-quotes",
      el("p", { id: "open-quotes-count" }, quotes.shown + " quote(s) waiting for payment."),
      table(quotes.items, [
        ["Shipment", (q) => q.shipment_id, "id"],
        ["Member", (q) => q.member_id, "id"],
        ["Total", (q) => money(q.total, q.currency), "num"],
        ["Quoted", (q) => q.quoted_on],
        ["Due", (q) => q.due_on],
      ], "No open quote.")
    );
  } catch (error) {
    fill("billing-open-quotes", problemNode(error));
  }
  try {
    const overdue = await firstPage("/v1/billing/overdue");
    document.getElementById("overdue-date").textContent = "on " + overdue.today;
    fill(
      "billing-overdue",
      table(overdue.items, [
        ["Shipment", (o) => o.quote.shipment_id, "id"],
        ["Member", (o) => o.quote.member_id, "id"],
        ["Total", (o) => money(o.quote.total, o.quote.currency), "num"],
        ["Days overdue", (o) => o.days_overdue, "num"],
        ["Interest to date", (o) => money(o.interest_to_date.amount, o.interest_to_date.currency), "num"],
        ["Action", (o) => actionButton("Hold", "/v1/shipments/" + encodeURIComponent(o.quote.shipment_id) + "/hold-unpaid", {}, o.quote.shipment_id, overdue.today)],
      ], "Nothing overdue.")
    );
  } catch (error) {
    fill("billing-overdue", problemNode(error));
  }
  try {
    const fees = await firstPage("/v1/billing/fees?by=type");
    fill(
      "billing-fees",
      table(fees.items, [
        ["Reason", (f) => f.reason],
        ["Charges", (f) => f.count, "num"],
        ["Amount", (f) => money(f.amount, f.currency), "num"],
      ], "No fee charged yet.")
    );
  } catch (error) {
    fill("billing-fees", problemNode(error));
  }
  try {
    const refunds = await firstPage("/v1/billing/refunds-due");
    fill(
      "billing-refunds",
      table(refunds.items, [
        ["Account", (r) => r.account_id, "id"],
        ["Member", (r) => r.member_id, "id"],
        ["Due", (r) => r.due_on],
        ["Balance", (r) => money(r.balance, r.currency), "num"],
      ], "No refund due.")
    );
  } catch (error) {
    fill("billing-refunds", problemNode(error));
  }
}

async function loadAudit() {
  const id = document.getElementById("audit-id").value.trim();
  const type = document.getElementById("audit-type").value;
  if (!id) {
    fill("audit-history", el("p", { class: "empty" }, "Enter an id to see its history."));
    return;
  }
  try {
    const history = await api("/v1/audit/" + encodeURIComponent(type) + "/" + encodeURIComponent(id) + "/history");
    fill(
      "audit-history",
      el("p", { id: "audit-count" }, history.count + " event(s) of " + type + " " + id + "."),
      table(history.items, [
        ["#", (e) => e.sequence, "num"],
        ["Event", (e) => e.event_type],
        ["Recorded", (e) => new Date(e.recorded_at).toLocaleString()],
        ["Actor", (e) => e.actor],
        ["Command", (e) => e.command],
        ["Rule", (e) => e.rule_id],
        ["Policy", (e) => e.policy_version],
      ])
    );
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) {
      fill("audit-history", el("p", { class: "empty" }, "No event recorded for " + type + " " + id + "."));
    } else {
      fill("audit-history", problemNode(error));
    }
  }
}

async function loadProjections() {
  try {
    const health = await api("/v1/projections");
    fill(
      "projections-table",
      table(health.views, [
        ["View", (v) => v.view],
        ["Status", (v) => el("span", { class: "badge " + v.status }, v.status)],
        ["Serving instance", (v) => v.serving, "id"],
        ["Last applied", (v) => (v.last_applied ? v.last_applied.txid + "/" + v.last_applied.position : null), "id"],
        ["Store head", (v) => (v.head ? v.head.txid + "/" + v.head.position : null), "id"],
        ["Lag (events)", (v) => (v.lag_events_more ? v.lag_events + "+" : v.lag_events), "num"],
        ["Lag (s)", (v) => v.lag_seconds.toFixed(1), "num"],
        ["Parked", (v) => (v.parked_more ? v.parked + "+" : v.parked), "num"],
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
        ["View", (p) => p.view],
        ["Event", (p) => p.aggregate_type + " " + p.aggregate_id + " #" + p.sequence, "id"],
        ["Type", (p) => p.event_type],
        ["Reason", (p) => p.reason],
        ["Error", (p) => p.error],
        ["Parked at", (p) => new Date(p.parked_at).toLocaleString()],
      ], "No parked event.")
    );
  } catch (error) {
    fill("projections-table", problemNode(error));
    fill("projections-parked");
  }
}

async function loadSchedule() {
  try {
    const schedule = await api("/v1/schedule?limit=100");
    const clock = schedule.clock;
    fill(
      "schedule-clock",
      card("today in the warehouse", clock.today, "total"),
      card(clock.simulated ? "simulated clock" : "real clock", new Date(clock.now).toLocaleString()),
      card("due now", schedule.pending.filter((p) => p.due_now).length),
      card("done (latest page)", schedule.done.length)
    );
    document.getElementById("clock-form").hidden = !clock.simulated;
    fill(
      "schedule-pending",
      table(schedule.pending, [
        ["Rule", (p) => p.rule],
        ["Action", (p) => p.name],
        ["Of", (p) => p.aggregate_type + " " + p.aggregate_id, "id"],
        ["Due", (p) => p.due_on],
        ["Now?", (p) => (p.due_now ? "due now" : "later")],
        ["Act now", (p) => doNow(p, clock.today)],
      ], "Nothing due or upcoming.")
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
  return actionButton("Do now", path, body, pending.aggregate_id, today);
}

const doneColumns = [
  ["Rule", (d) => d.rule],
  ["Action", (d) => d.action],
  ["Of", (d) => d.aggregate_type + " " + d.aggregate_id, "id"],
  ["Due", (d) => d.due_on],
  ["Done at", (d) => new Date(d.done_at).toLocaleString()],
  ["Outcome", (d) => el("span", { class: "badge " + d.outcome }, d.outcome)],
  ["Reason", (d) => d.reason],
];

let scheduleFirst = [];

function showDone(latest) {
  scheduleFirst = latest;
  const shown = latest.concat(scheduleOlder);
  fill(
    "schedule-done",
    el("p", { id: "schedule-shown" }, "The latest " + shown.length + " entries" + (scheduleNext ? "; older ones follow." : ", all of them.")),
    table(shown, doneColumns, "The scheduler has done nothing yet.")
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
  setStatus("Advancing the clock " + days + " day(s): the scheduler does each day's work…", false);
  try {
    const advanced = await api("/v1/clock/advance", { days }, "dashboard:advance:" + Date.now());
    tell("The clock shows " + advanced.clock.today + "; " + advanced.report.journaled.length + " action(s) done on the way.", false);
  } catch (error) {
    tell("Could not advance the clock: " + error.message, true);
  }
  button.disabled = false;
  refresh();
}

const loaders = {
  storage: loadStorage,
  billing: loadBilling,
  audit: loadAudit,
  schedule: loadSchedule,
  projections: loadProjections,
};

async function refresh() {
  if (!token()) {
    setStatus("No token yet: paste one to start.", false);
    return;
  }
  await loaders[activeTab]();
  if (note && Date.now() < note.until) setStatus(note.text, note.isError);
  else setStatus("Updated " + new Date().toLocaleTimeString() + ".", false);
}

function showTab(name) {
  activeTab = name;
  scheduleOlder = [];
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll(".panel")) {
    panel.hidden = panel.id !== name;
  }
  refresh();
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const value = input.value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  input.value = "";
  refresh();
});
document.getElementById("token-clear").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  for (const id of ["storage-counts", "due-today", "parcels", "billing-open-quotes", "billing-overdue", "billing-fees", "billing-refunds", "audit-history", "schedule-clock", "schedule-pending", "schedule-done", "projections-table", "projections-parked"]) {
    fill(id);
  }
  refresh();
});
document.getElementById("audit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadAudit();
});
document.getElementById("parcels-more").addEventListener("click", moreParcels);
document.getElementById("schedule-more").addEventListener("click", olderSchedule);
document.getElementById("clock-form").addEventListener("submit", advanceClock);
for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}

refresh();
setInterval(refresh, REFRESH_MS);
