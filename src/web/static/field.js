// aidflow field app (/field/): logs checkpoint events and creates convoys, offline first.
// Every entry is written to IndexedDB (aidflow-field / queue, keyed by its client UUID)
// before it is sent through POST /api/v1/sync; the list on the page is read back from
// there, so closing the tab or restarting the phone loses nothing. Strings come from the
// page's #field-texts (locales/<lang>/field.toml). No build step, no library.

const $ = (s, root = document) => root.querySelector(s);
const $$ = (s, root = document) => [...root.querySelectorAll(s)];
const texts = JSON.parse($("#field-texts")?.textContent || "{}");
/** The string for a key of field.toml, with {name} placeholders filled in. */
function tr(key, vars) {
  let s = texts[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(String(v));
  return s;
}
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
const ROLE = meta("aidflow-role");
const MY_ORG = meta("aidflow-organization");
const CAN_WRITE = ROLE === "editor" || ROLE === "admin";
let csrf = meta("csrf-token");

const OPEN = ["planned", "in_transit", "held"];
const CARGO_KINDS = ["departed", "cleared", "delivered"];
const DEVICE = "aidflow field app; " + navigator.userAgent.slice(0, 120);
const lang = document.documentElement.lang || undefined;

// Small helpers

const pad = (n) => String(n).padStart(2, "0");
/** A Date as RFC 3339 with the device's offset at that moment. */
function rfc3339(d) {
  const off = -d.getTimezoneOffset(), a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${off < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
/** A Date as the value of an <input type="datetime-local">, in the device's zone. */
const localInput = (d) => rfc3339(d).slice(0, 16);
/** The value of a datetime-local input as a Date in the device's zone (null if empty). */
function fromInput(v) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(v || "");
  return m ? new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) : null;
}
function showTime(iso) {
  try { return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" }); } catch { return iso; }
}
// randomUUID needs a secure context; getRandomValues does not.
const uuid = () => crypto.randomUUID?.() ?? "10000000-1000-4000-8000-100000000000".replace(/[018]/g,
  (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
/** An exact decimal: digits n over 10^d (never floating point). */
function dec(s) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(s ?? "").trim());
  return m ? { n: BigInt(m[1] + (m[2] || "")), d: (m[2] || "").length } : null;
}
const mul = (a, b) => ({ n: a.n * b.n, d: a.d + b.d });
const less = (a, b) => a.n * 10n ** BigInt(b.d) < b.n * 10n ** BigInt(a.d);
const TONNE = { n: 1000n, d: 0 };
const normNumber = (s) => String(s || "").trim().replace(",", ".");
function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...kids.filter((k) => k != null));
  return e;
}
const show = (sel, on = true) => { const e = $(sel); if (e) e.hidden = !on; };
const dyn = (key) => texts[key] ?? key; // keys built at run time: kind_*, status_*, state_*
const kindLabel = (k) => dyn("kind_" + k);

function say(message, isError) {
  const s = $("#field-status");
  if (!s) return;
  s.textContent = message;
  s.classList.toggle("is-error", !!isError);
}

// IndexedDB: the queue

let dbPromise;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const r = indexedDB.open("aidflow-field", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("queue", { keyPath: "id" });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return dbPromise;
}
/** Runs fn(store) in one transaction; resolves with the result of the request fn returns. */
async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction("queue", mode, { durability: "strict" });
    const req = fn(t.objectStore("queue"));
    t.oncomplete = () => resolve(req && req.result);
    t.onerror = t.onabort = () => reject(t.error);
  });
}
const allEntries = () => tx("readonly", (s) => s.getAll()).then((l) => l || []);
const getEntry = (id) => tx("readonly", (s) => s.get(id));
const channel = "BroadcastChannel" in self ? new BroadcastChannel("aidflow-field") : null;
async function changed() {
  channel?.postMessage("changed");
  await renderQueue();
}
async function putEntry(entry) {
  entry.updated_at = Date.now();
  await tx("readwrite", (s) => s.put(entry));
}
/** Changes entries in one transaction: fn(entry) returns the new entry, or null to skip. */
async function updateEntries(ids, fn) {
  await tx("readwrite", (s) => {
    for (const id of ids) {
      const r = s.get(id);
      r.onsuccess = () => {
        const next = r.result && fn(r.result);
        if (next) { next.updated_at = Date.now(); s.put(next); }
      };
    }
  });
}
const deleteEntries = (ids) => tx("readwrite", (s) => { ids.forEach((id) => s.delete(id)); });

// Talking to the server

function api(url, opts = {}) {
  const headers = { Accept: "application/json" };
  if (opts.method && opts.method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrf;
  }
  return fetch(url, { credentials: "same-origin", ...opts, headers });
}
class SignedOut extends Error {}
async function getJSON(url) {
  const r = await api(url);
  if (r.status === 401) { signedOut(); throw new SignedOut(); }
  if (!r.ok) throw new Error(`${r.status} ${url}`);
  return r.json();
}
/** Every page of a list (a few at most). */
async function getAll(url) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await getJSON(cursor ? `${url}&cursor=${encodeURIComponent(cursor)}` : url);
    items.push(...(page.items || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}
function signedOut() {
  const s = $("#signin");
  if (s) s.hidden = false;
}
/** The CSRF token of the session now (after a new sign-in the cached page's is stale). */
async function refreshCsrf() {
  try {
    const r = await fetch("/field/", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok || new URL(r.url).pathname !== "/field/") return false;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    const token = doc.querySelector('meta[name="csrf-token"]')?.content;
    if (!token || token === csrf) return false;
    csrf = token;
    return true;
  } catch { return false; }
}
async function problemOf(r) {
  try { return await r.json(); } catch { return { status: r.status, title: r.statusText, detail: "" }; }
}

// Reference data (cached by the service worker for offline use)

const ref = { routes: new Map(), commodities: new Map(), orgs: [], convoys: [], loaded: false };
const details = new Map(); // convoy id → { detail, events } as last fetched

async function loadReference() {
  const [routes, commodities, orgs] = await Promise.all([
    getAll("/api/v1/routes?limit=500"),
    getAll("/api/v1/commodities?limit=500"),
    ROLE === "admin" ? getAll("/api/v1/organizations?limit=500") : Promise.resolve([]),
  ]);
  ref.routes = new Map(routes.map((r) => [r.code, r]));
  ref.commodities = new Map(commodities.map((c) => [c.code, c]));
  ref.orgs = orgs;
  ref.loaded = true;
}
async function loadConvoys() {
  const lists = await Promise.all(OPEN.map((s) => getAll(`/api/v1/convoys?status=${s}&limit=500`)));
  ref.convoys = lists.flat();
}
async function loadAll(quiet) {
  if (!quiet) say(tr("loading"));
  let failed = false;
  try { await loadReference(); } catch (e) { failed = true; if (e instanceof SignedOut) return; }
  try { await loadConvoys(); } catch (e) { failed = true; if (e instanceof SignedOut) return; }
  $("#convoy-picker")?.setAttribute("aria-busy", "false");
  fillConvoyForm();
  await renderPicker();
  if (!ref.loaded) say(tr("not_loaded"), true);
  else if (failed || !navigator.onLine) say(tr("loaded_offline"));
  else if (!quiet) say("");
  if (!failed && navigator.onLine) prefetch();
}
/** Warms the service worker's cache with the details of the convoys most likely logged. */
async function prefetch() {
  for (const c of writableConvoys().slice(0, 30)) {
    if (!navigator.onLine) return;
    try { await loadDetail(c.id); } catch { return; }
  }
}
async function loadDetail(id) {
  const [detail, events] = await Promise.all([
    getJSON(`/api/v1/convoys/${id}`),
    getJSON(`/api/v1/convoys/${id}/events`),
  ]);
  const d = { detail, events: Array.isArray(events) ? events : events.items || [] };
  details.set(id, d);
  return d;
}

// Convoys known here: the server's open ones and those created on this device

async function localConvoys() {
  return (await allEntries()).filter((e) => e.type === "convoy" && e.state !== "sent").map((e) => ({
    id: e.id, reference: e.body.reference, organization: e.body.organization, route: e.body.route,
    status: "planned", last_checkpoint: null, local: e.state,
    manifest: e.body.manifest,
  }));
}
function writableConvoys(extra = []) {
  const seen = new Set(ref.convoys.map((c) => c.id));
  const all = [...extra.filter((c) => !seen.has(c.id)), ...ref.convoys];
  return all.filter((c) => ROLE === "admin" || !MY_ORG || c.organization === MY_ORG)
    .sort((a, b) => (b.local ? 1 : 0) - (a.local ? 1 : 0) ||
      String(b.last_seen_at || b.planned_departure || "").localeCompare(String(a.last_seen_at || a.planned_departure || "")));
}
let pickable = [];
async function renderPicker() {
  const list = $("#convoy-picker");
  if (!list) return;
  pickable = writableConvoys(await localConvoys());
  const q = ($("#convoy-filter").value || "").trim().toLowerCase();
  const shown = pickable.filter((c) => !q || [c.reference, c.organization, c.route, c.last_checkpoint].join(" ").toLowerCase().includes(q));
  list.replaceChildren(...shown.map((c) => {
    const where = c.last_checkpoint ? tr("last_seen", { checkpoint: c.last_checkpoint }) : tr("not_departed");
    const info = [c.organization, c.route, dyn("status_" + c.status), c.local ? tr("not_sent_yet") : where].filter(Boolean).join(" · ");
    return el("li", {}, el("button", { type: "button", class: `convoy ${c.status}`, "data-convoy-id": c.id },
      el("span", { class: "ref", text: c.reference }), el("span", { class: "meta", text: info })));
  }));
  const empty = $("#picker-empty");
  empty.hidden = shown.length > 0;
  empty.textContent = !ref.loaded && !pickable.length ? tr("not_loaded") : q ? tr("no_match") : tr("no_convoys");
}

// Where a convoy is, and what it carries

const stopsOf = (routeCode) => (ref.routes.get(routeCode)?.checkpoints || []).map((s) => s.checkpoint);
const byTime = (a, b) => new Date(a.observed_at) - new Date(b.observed_at);

/** The convoy's events as this device knows them: the server's (not voided) and its own
 *  entries not yet refused, minus the events those entries correct. */
async function knownEvents(convoy, states = ["queued", "sending", "sent"]) {
  const server = details.get(convoy.id)?.events || [];
  const ids = new Set(server.map((e) => e.id));
  const mine = (await allEntries()).filter((e) => e.type === "event" && e.body.convoy === convoy.id && states.includes(e.state) && !ids.has(e.id)).map((e) => e.body);
  const corrected = new Set(mine.map((e) => e.corrects).filter(Boolean));
  return [...server, ...mine].filter((e) => !e.voided && !corrected.has(e.id)).sort(byTime);
}
/** The checkpoint the convoy is at (arrived or held there), or else the next one. */
function position(convoy, events) {
  const stops = stopsOf(convoy.route);
  const after = (code) => stops[Math.min(stops.indexOf(code) + 1, stops.length - 1)] ?? code;
  const last = [...events].reverse().find((e) => e.checkpoint);
  // Without events, the list's last checkpoint: still there if held, else left behind.
  const cp = last ? last.checkpoint : convoy.last_checkpoint;
  if (!cp) return { at: null, next: stops[0] ?? null };
  const there = last ? ["arrived", "held", "turned_back", "delivered"].includes(last.kind) : convoy.status === "held";
  return { at: there ? cp : null, next: after(cp) };
}
function defaultCheckpoint(kind, pos, stops) {
  if (kind === "departed") return stops[0];
  if (kind === "delivered") return stops[stops.length - 1];
  if (kind === "arrived") return pos.next;
  return pos.at ?? pos.next;
}
/** Tonnes carried per commodity before this event, as exact decimals (for the reason check). */
function carried(convoy, kind, events) {
  const out = new Map();
  const d = details.get(convoy.id)?.detail;
  const manifest = d?.manifest || convoy.manifest || [];
  for (const m of manifest) if (m.tonnes) out.set(m.commodity, m.tonnes);
  if (kind === "departed") return out;
  for (const c of d?.commodities || []) {
    const departed = dec(c.figures.loaded) && dec(c.figures.loaded).n > 0n;
    if (departed) out.set(c.commodity, c.figures.outstanding);
  }
  // What this device logged since: lines of its own cleared/departed events.
  for (const e of events) if (["departed", "cleared"].includes(e.kind) && !e.seq) {
    for (const l of e.cargo || []) {
      const kg = lineKg(l);
      if (kg) out.set(l.commodity, fmtTonnes(kg));
    }
  }
  return out;
}
/** A cargo line's amount in kg, exact (null when it cannot be known here). */
function lineKg(l) {
  const q = dec(l.tonnes ?? l.quantity);
  if (!q) return null;
  if (l.tonnes != null || l.unit === "t") return mul(q, TONNE);
  if (l.unit === "kg") return q;
  const density = dec(ref.commodities.get(l.commodity)?.density_kg_per_l);
  return density ? mul(q, density) : null;
}
/** kg as tonnes with three decimals, as the server shows them. */
function fmtTonnes(kg) {
  const g = (kg.n * 1000n) / 10n ** BigInt(kg.d);
  return `${g / 1000000n}.${String((g / 1000n) % 1000n).padStart(3, "0")}`;
}

// The event form

const form = {
  convoy: null, kind: null, events: [], pos: { at: null, next: null },
  checkpointTouched: false, timeTouched: false, correcting: null, editing: null,
};

async function pickConvoy(id, keepOpen) {
  const convoy = pickable.find((c) => c.id === id) || (await localConvoys()).find((c) => c.id === id) || ref.convoys.find((c) => c.id === id);
  if (!convoy) return;
  resetEventForm();
  form.convoy = convoy;
  show("#pick-step", false);
  show("#event-form");
  show("#correct-event");
  $("#chosen-convoy").textContent = tr("selected_convoy", { reference: convoy.reference });
  $("#chosen-meta").textContent = [convoy.organization, convoy.route, dyn("status_" + convoy.status)].filter(Boolean).join(" · ");
  options($("#event-checkpoint"), (ref.routes.get(convoy.route)?.checkpoints || []).map((s) => [s.checkpoint, `${s.name} (${s.checkpoint})`]));
  form.events = await knownEvents(convoy);
  form.pos = position(convoy, form.events);
  applyDefaults();
  fillCommodityOptions();
  if (!keepOpen) $("#event-kind button")?.focus();
  // The server's events and figures, when they can be had (or the cached ones offline).
  if (!convoy.local) {
    loadDetail(convoy.id).then(async () => {
      if (form.convoy?.id !== convoy.id) return;
      form.events = await knownEvents(convoy);
      form.pos = position(convoy, form.events);
      applyDefaults();
      fillCommodityOptions();
      renderCorrectList();
    }).catch(() => renderCorrectList());
  }
  renderCorrectList();
}

function applyDefaults() {
  if (!form.convoy) return;
  if (!form.checkpointTouched) {
    const stops = stopsOf(form.convoy.route);
    const cp = defaultCheckpoint(form.kind, form.pos, stops);
    if (cp) $("#event-checkpoint").value = cp;
  }
  if (!form.timeTouched) $("#event-time").value = localInput(new Date());
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  $("#event-time-hint").textContent = tr("time_hint", { zone: `${zone} ${rfc3339(new Date()).slice(19)}`.trim() });
  const cargoOk = !form.kind || CARGO_KINDS.includes(form.kind);
  show("#cargo-changed", cargoOk);
  show("#cargo-none", !cargoOk);
  updateCarried();
}

function setKind(kind) {
  form.kind = kind;
  for (const b of $$("#event-kind [data-kind]")) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  setError($("#event-kind"), "");
  applyDefaults();
}

function resetEventForm() {
  Object.assign(form, { convoy: null, kind: null, events: [], checkpointTouched: false, timeTouched: false, correcting: null, editing: null });
  const f = $("#event-form");
  f.reset();
  clearErrors(f);
  for (const b of $$("#event-kind [data-kind]")) b.setAttribute("aria-pressed", "false");
  $("#cargo-lines").replaceChildren();
  $("#cargo-changed").open = false;
  show("#cargo-changed");
  show("#cargo-none", false);
  show("#correction-banner", false);
  show("#editing-banner", false);
  setCorrectionMode(false);
  $("#record-event").textContent = tr("record");
}

function closeEventForm() {
  resetEventForm();
  show("#event-form", false);
  show("#correct-event", false);
  $("#correct-event").open = false;
  show("#pick-step");
}

function setCorrectionMode(on) {
  const label = $("#event-note-label");
  label.replaceChildren(on ? tr("correction_reason") : tr("note"), " ",
    el("span", { class: "opt", text: on ? "" : tr("optional") }));
  $("#event-note").required = on;
  $("#event-note").placeholder = on ? tr("correction_reason_hint") : "";
  $("#record-event").textContent = form.editing ? tr("save_resend") : on ? tr("record_correction") : tr("record");
}

// Cargo and manifest lines, from the page's <template id="tpl-line">.
let lineSeq = 0;
function addLine(container, prefix, line = {}, withReason = true) {
  const row = $("#tpl-line").content.firstElementChild.cloneNode(true);
  const n = lineSeq++;
  const base = `${prefix}-${n}`;
  row.dataset.line = base;
  for (const part of $$("[data-part]", row)) part.id = `${base}-${part.dataset.part}`;
  for (const label of $$("[data-for]", row)) label.htmlFor = `${base}-${label.dataset.for}`;
  if (!withReason) { $(".reason", row).remove(); $(".carried", row).remove(); }
  for (const c of $$("select, input", row)) c.setAttribute("aria-describedby", `${base}-error${withReason ? ` ${base}-carried` : ""}`);
  container.append(row);
  fillCommoditySelect($("[data-part=commodity]", row), container.id === "cargo-lines" ? cargoCommodities() : [...ref.commodities.keys()]);
  if (line.commodity) $("[data-part=commodity]", row).value = line.commodity;
  const unit = line.tonnes != null ? "t" : line.unit || "t";
  $("[data-part=unit]", row).value = unit;
  $("[data-part=quantity]", row).value = line.tonnes ?? line.quantity ?? "";
  if (withReason) $("[data-part=reason]", row).value = line.reason || "";
  updateCarried();
  return row;
}
function cargoCommodities() {
  const d = form.convoy && details.get(form.convoy.id)?.detail;
  const manifest = d?.manifest || form.convoy?.manifest;
  return manifest?.length ? manifest.map((m) => m.commodity) : [...ref.commodities.keys()];
}
/** Sets a select's options ([value, label] pairs), keeping its value when it still can. */
function options(select, items, choose) {
  const keep = select.value;
  select.replaceChildren(...(choose ? [el("option", { value: "", text: tr("choose") })] : []),
    ...items.map(([value, text]) => el("option", { value, text })));
  select.value = items.some(([v]) => v === keep) ? keep : items.length === 1 ? items[0][0] : "";
}
const fillCommoditySelect = (select, codes) => options(select, codes.map((c) => [c, ref.commodities.get(c)?.name || c]), true);
function fillCommodityOptions() {
  for (const s of $$("#cargo-lines [data-part=commodity]")) fillCommoditySelect(s, cargoCommodities());
}
function updateCarried() {
  if (!form.convoy) return;
  const have = carried(form.convoy, form.kind, form.events);
  for (const row of $$("#cargo-lines .line")) {
    const t = have.get($("[data-part=commodity]", row).value);
    $("[data-part=carried]", row).textContent = t ? tr("carried", { tonnes: t }) : "";
  }
}
function readLine(row, withReason) {
  const commodity = $("[data-part=commodity]", row).value;
  const quantity = normNumber($("[data-part=quantity]", row).value);
  const unit = $("[data-part=unit]", row).value;
  const line = unit === "t" ? { commodity, tonnes: quantity } : { commodity, quantity, unit };
  const reason = withReason && $("[data-part=reason]", row).value;
  if (reason) line.reason = reason;
  return line;
}
/** Client-side checks of one line; returns the message for the row or "". */
function checkLine(row, line, have) {
  if (!line.commodity) return [$("[data-part=commodity]", row), tr("err_required")];
  const q = $("[data-part=quantity]", row);
  if (!q.value.trim()) return [q, tr("err_required")];
  if (!dec(line.tonnes ?? line.quantity)) return [q, tr("err_number")];
  if (line.unit === "L" && !ref.commodities.get(line.commodity)?.density_kg_per_l) return [$("[data-part=unit]", row), tr("err_no_density")];
  if (have && !line.reason) {
    const before = have.get(line.commodity);
    const kg = lineKg(line);
    if (before && kg && less(kg, mul(dec(before), TONNE))) return [$("[data-part=reason]", row), tr("err_decrease", { tonnes: before })];
  }
  return null;
}

// Field messages: beside the field (#<id>-error), the field marked aria-invalid.
function setError(control, message) {
  if (!control) return;
  const row = control.closest(".line");
  const box = row ? $("[data-part=error]", row) : $(`#${control.id}-error`);
  if (box) box.textContent = message;
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
}
/** After failed checks: the form's message, and focus on the first bad field. */
function stopAt(first, f) {
  if (!first) return false;
  $(".form-error", f).textContent = tr("err_form");
  (first.matches("fieldset") ? $("button, select, input", first) : first).focus();
  return true;
}
function clearErrors(root) {
  for (const e of $$(".field-error", root)) e.textContent = "";
  for (const c of $$("[aria-invalid]", root)) c.removeAttribute("aria-invalid");
}
/** Puts the API's problem beside the fields: each of errors[] by its field (the control
 *  with that data-field, or part of the line cargo[i] / manifest[i]), else the detail. */
function showProblem(problem, f) {
  const rest = [];
  for (const { field = "", message } of problem?.errors || []) {
    const m = /^\w+\[(\d+)\](?:\.(\w+))?$/.exec(field);
    const row = m && $$(".line", f)[+m[1]];
    const control = row ? $(`[data-part=${m[2] === "tonnes" || !m[2] ? "quantity" : m[2]}]`, row) : $(`[data-field="${field}"]`, f);
    if (control) setError(control, message);
    else rest.push(`${field}: ${message}`);
  }
  // A taken reference has no errors[]: its 409 belongs beside the reference.
  let detail = problem?.errors?.length ? "" : problem?.detail || problem?.title || "";
  const ref = $("[data-field=reference]", f);
  if (problem?.status === 409 && /reference/.test(detail) && ref) { setError(ref, detail); detail = ""; }
  $(".form-error", f).textContent = rest.join(" ") || detail || tr("err_form");
}

async function submitEvent(ev) {
  ev.preventDefault();
  const f = $("#event-form");
  clearErrors(f);
  const convoy = form.convoy;
  let first = null;
  const fail = (control, message) => { setError(control, message); first ??= control; };
  if (!form.kind) fail($("#event-kind"), tr("err_choose_kind"));
  const checkpoint = $("#event-checkpoint").value;
  if (!checkpoint) fail($("#event-checkpoint"), tr("err_required"));
  let when = form.timeTouched ? fromInput($("#event-time").value) : new Date();
  if (!when) fail($("#event-time"), tr("err_time"));
  else if (when - Date.now() > 10 * 60000) fail($("#event-time"), tr("err_future"));
  const cargo = [];
  if (form.kind && CARGO_KINDS.includes(form.kind) && $("#cargo-changed").open) {
    const have = form.kind === "delivered" ? null : carried(convoy, form.kind, form.events);
    for (const row of $$("#cargo-lines .line")) {
      const line = readLine(row, true);
      const bad = checkLine(row, line, have);
      if (bad) fail(...bad);
      cargo.push(line);
    }
  }
  const note = $("#event-note").value.trim();
  if (form.correcting && !note) fail($("#event-note"), tr("err_correction_reason"));
  if (stopAt(first, f)) return;
  const id = form.editing?.id || uuid();
  const body = { id, convoy: convoy.id, kind: form.kind, checkpoint, observed_at: rfc3339(when) };
  if (cargo.length) body.cargo = cargo;
  if (note) body.note = note;
  if (form.correcting) body.corrects = form.correcting.id;
  const entry = {
    ...(form.editing || {}), id, type: "event", state: "queued", body, error: null, http_status: null,
    created_at: form.editing?.created_at || Date.now(),
    convoy_reference: convoy.reference, route: convoy.route,
  };
  await putEntry(entry); // on the device before anything is sent
  say(tr("event_queued", { kind: kindLabel(form.kind), reference: convoy.reference }));
  closeEventForm();
  $("#log-h").focus();
  await changed();
  sendQueue();
}

// Corrections

async function renderCorrectList() {
  const list = $("#correct-list");
  const convoy = form.convoy;
  if (!convoy) return;
  // What the server has (or had when last seen), and what it took from this device since.
  const events = (await knownEvents(convoy, ["sent"])).reverse();
  list.replaceChildren(...events.map((e) => el("li", {}, el("button", { type: "button", class: "event", "data-event-id": e.id },
    el("span", { class: "ref", text: `${kindLabel(e.kind)} · ${e.checkpoint || ""}` }),
    el("span", { class: "meta", text: [showTime(e.observed_at), e.note].filter(Boolean).join(" · ") })))));
  const empty = $("#correct-empty");
  empty.hidden = events.length > 0;
  empty.textContent = details.has(convoy.id) || convoy.local ? tr("correct_none") : tr("correct_offline");
}

function fillEventFields(body) {
  setKind(body.kind);
  form.checkpointTouched = true;
  if (body.checkpoint) $("#event-checkpoint").value = body.checkpoint;
  form.timeTouched = true;
  $("#event-time").value = localInput(new Date(body.observed_at));
  $("#cargo-lines").replaceChildren();
  for (const l of body.cargo || []) {
    // The server's lines carry the quantity and unit as sent: edit those.
    const line = l.quantity != null && l.unit ? { commodity: l.commodity, quantity: l.quantity, unit: l.unit, reason: l.reason } : l;
    addLine($("#cargo-lines"), "cargo", line);
  }
  $("#cargo-changed").open = (body.cargo || []).length > 0;
  applyDefaults();
}

async function startCorrection(eventId) {
  const convoy = form.convoy;
  const target = (await knownEvents(convoy, ["sent"])).find((e) => e.id === eventId);
  if (!target) return;
  fillEventFields(target);
  $("#event-note").value = "";
  markCorrection(target.id, `${kindLabel(target.kind)} · ${target.checkpoint || ""} · ${showTime(target.observed_at)}`);
  $("#correct-event").open = false;
  $("#event-note").focus();
}
function markCorrection(id, label) {
  form.correcting = { id };
  $("#correction-text").textContent = tr("correcting", { event: label });
  show("#correction-banner");
  setCorrectionMode(true);
}

// The queue

function entryLabel(e) {
  if (e.type === "convoy") return tr("entry_convoy", { reference: e.body.reference, route: e.body.route });
  const b = e.body;
  return [kindLabel(b.kind), e.convoy_reference, b.checkpoint, showTime(b.observed_at), b.corrects ? tr("entry_correction") : null].filter(Boolean).join(" · ");
}

async function renderQueue() {
  const list = $("#queue");
  if (!list) return;
  const focused = document.activeElement?.closest?.("#queue li") && {
    id: document.activeElement.closest("li").dataset.entryId, action: document.activeElement.dataset.action,
  };
  const entries = (await allEntries()).sort((a, b) => b.created_at - a.created_at);
  list.replaceChildren(...entries.map((e) => {
    const actions = {
      queued: ["discard"], sending: [], sent: ["remove"], error: ["edit", "resend", "discard"],
    }[e.state] || [];
    const list = e.error?.errors || [];
    const err = e.state === "error" && e.error ? el("div", { class: "entry-error" },
      el("p", { text: `${tr("server_said")} ${list.length ? e.error.title : e.error.detail || e.error.title}` }),
      list.length ? el("ul", {}, ...list.map((x) => el("li", { text: `${x.field}: ${x.message}` }))) : null) : null;
    return el("li", { class: `entry ${e.state}`, "data-entry-id": e.id, "data-state": e.state },
      el("p", { class: "entry-line" },
        el("span", { class: `entry-state ${e.state}`, text: dyn("state_" + e.state) }), " ",
        el("span", { class: "entry-label", text: entryLabel(e) })),
      err,
      actions.length ? el("div", { class: "entry-actions" }, ...actions.map((a) => el("button", {
        type: "button", class: a === "edit" || a === "resend" ? "primary" : "secondary", "data-action": a, text: dyn(a),
        "aria-label": `${dyn(a)}: ${entryLabel(e)}`,
      }))) : null);
  }));
  show("#queue-empty", !entries.length);
  show("#clear-sent", entries.some((e) => e.state === "sent"));
  if (focused) $(`#queue li[data-entry-id="${focused.id}"] [data-action="${focused.action}"]`)?.focus();
}

async function queueAction(button) {
  const id = button.closest("li").dataset.entryId;
  const entry = await getEntry(id);
  if (!entry) return;
  const action = button.dataset.action;
  if (action === "remove") await deleteEntries([id]);
  else if (action === "discard") {
    if (!confirm(tr("confirm_discard"))) return;
    await deleteEntries([id]);
  } else if (action === "resend") {
    await updateEntries([id], (e) => e.state === "error" ? { ...e, state: "queued", error: null } : null);
    await changed();
    return sendQueue();
  } else if (action === "edit") return editEntry(entry);
  await changed();
  renderPicker();
}

async function editEntry(entry) {
  if (entry.type === "event") {
    const b = entry.body;
    if (!pickable.some((c) => c.id === b.convoy) && !ref.convoys.some((c) => c.id === b.convoy)) {
      pickable.push({ id: b.convoy, reference: entry.convoy_reference, route: entry.route, status: "" });
    }
    await pickConvoy(b.convoy, true);
    fillEventFields(b);
    $("#event-note").value = b.note || "";
    form.editing = entry;
    if (b.corrects) markCorrection(b.corrects, b.corrects);
    else setCorrectionMode(false);
    show("#editing-banner");
    showProblem(entry.error, $("#event-form"));
    $("#event-form").scrollIntoView({ block: "start" });
    ($("#event-form [aria-invalid]") || $("#event-kind button")).focus();
  } else {
    fillConvoyForm(entry);
    showProblem(entry.error, $("#new-convoy"));
    $("#new-convoy").scrollIntoView({ block: "start" });
    ($("#new-convoy [aria-invalid]") || $("#convoy-reference")).focus();
  }
}

let sending = null, again = false;
/** Sends every waiting entry (one batch per 500); asked during a send, sends again after. */
function sendQueue() {
  if (sending) { again = true; return sending; }
  sending = (async () => {
    try {
      do {
        again = false;
        if (navigator.locks) await navigator.locks.request("aidflow-field-send", sendWaiting);
        else await sendWaiting();
      } while (again);
    } catch (e) {
      say(String(e), true);
    } finally { sending = null; }
  })();
  return sending;
}
async function sendWaiting() {
  // "sending" left over from a closed tab is sent again: same ids, so never counted twice.
  const waiting = (await allEntries()).filter((e) => e.state === "queued" || e.state === "sending").sort((a, b) => a.created_at - b.created_at);
  if (!waiting.length) return;
  const totals = { sent: 0, refused: 0 };
  for (let i = 0; i < waiting.length; i += 500) {
    if (!(await sendBatch(waiting.slice(i, i + 500), totals, true))) break;
  }
  await changed();
  if (totals.sent || totals.refused) {
    say([totals.sent ? tr("sent_count", { n: totals.sent }) : "", totals.refused ? tr("refused_count", { n: totals.refused }) : ""].filter(Boolean).join(" "), totals.refused > 0);
    loadConvoys().then(renderPicker).catch(() => {});
  }
}
/** One batch; false when sending should stop for now (no connection, signed out…). */
async function sendBatch(items, totals, mayRetry) {
  const ids = items.map((e) => e.id);
  await updateEntries(ids, (e) => e.state === "queued" || e.state === "sending" ? { ...e, state: "sending" } : null);
  await changed();
  say(tr("sending", { n: items.length }));
  const current = (await Promise.all(ids.map(getEntry))).filter((e) => e && e.state === "sending");
  const of = (type) => current.filter((e) => e.type === type).map((e) => e.body);
  const body = { device: DEVICE, convoys: of("convoy"), events: of("event") };
  const back = () => updateEntries(ids, (e) => e.state === "sending" ? { ...e, state: "queued" } : null);
  let r;
  try {
    r = await api("/api/v1/sync", { method: "POST", body: JSON.stringify(body) });
  } catch {
    await back();
    say(tr("network_failed", { n: (await allEntries()).filter((e) => e.state === "queued").length }), true);
    return false;
  }
  if (r.status === 401) { await back(); signedOut(); say(tr("signin_needed"), true); return false; }
  if (r.status === 403 && mayRetry && (await refreshCsrf())) { await back(); return sendBatch(items, totals, false); }
  if (!r.ok) {
    const problem = await problemOf(r);
    if (r.status === 400 || r.status === 422) {
      // The batch as a whole was refused: one by one, to find the bad item.
      if (current.length > 1) {
        await back();
        for (const e of current) if (!(await sendBatch([e], totals, true))) return false;
        return true;
      }
      await updateEntries(ids, (e) => ({ ...e, state: "error", error: problem, http_status: r.status }));
      totals.refused++;
      return true;
    }
    await back();
    say(tr("server_failed", { detail: problem.detail || `${r.status} ${problem.title || ""}` }), true);
    return false;
  }
  const answer = await r.json();
  const results = new Map();
  for (const [list, sentItems] of [[answer.convoys || [], body.convoys], [answer.events || [], body.events]]) {
    list.forEach((res, i) => results.set(res.id || sentItems[i]?.id, res));
  }
  await updateEntries(ids, (e) => {
    const res = results.get(e.id);
    if (!res || e.state !== "sending") return e.state === "sending" ? { ...e, state: "queued" } : null;
    if (res.status === "created" || res.status === "replayed") {
      totals.sent++;
      return { ...e, state: "sent", result: res.status, http_status: res.http_status, error: null, sent_at: Date.now() };
    }
    if (res.http_status >= 500) return { ...e, state: "queued" };
    totals.refused++;
    return { ...e, state: "error", http_status: res.http_status, error: res.error || { detail: String(res.http_status) } };
  });
  // Events refused because their convoy was not there yet go again once it is.
  const made = new Set(body.convoys.filter((c) => ["created", "replayed"].includes(results.get(c.id)?.status)).map((c) => c.id));
  if (made.size) {
    const waiting = (await allEntries()).filter((e) => e.state === "error" && e.http_status === 404 && made.has(e.body.convoy));
    await updateEntries(waiting.map((e) => e.id), (e) => ({ ...e, state: "queued", error: null }));
    if (waiting.length) again = true;
  }
  return true;
}

// The new convoy form

let convoyEditing = null;
function fillConvoyForm(entry) {
  const f = $("#new-convoy");
  if (!f) return;
  const org = $("#convoy-organization"), route = $("#convoy-route");
  const orgs = ROLE === "admin" ? ref.orgs.map((o) => [o.slug, o.name]) : MY_ORG ? [[MY_ORG, MY_ORG]] : [];
  options(org, orgs, orgs.length > 1);
  options(route, [...ref.routes.values()].map((r) => [r.code, `${r.name} (${r.origin} → ${r.destination})`]), ref.routes.size > 1);
  for (const s of $$("#manifest-lines [data-part=commodity]")) fillCommoditySelect(s, [...ref.commodities.keys()]);
  if (!$("#convoy-departure").value) $("#convoy-departure").value = localInput(new Date());
  if (!$("#manifest-lines .line")) addLine($("#manifest-lines"), "manifest", {}, false);
  if (!entry) return;
  // Editing a refused convoy: its values back in the form, with the same id.
  convoyEditing = entry;
  clearErrors(f);
  const b = entry.body;
  if (b.organization && !orgs.some(([o]) => o === b.organization)) org.append(el("option", { value: b.organization, text: b.organization }));
  org.value = b.organization || "";
  $("#convoy-reference").value = b.reference;
  route.value = b.route;
  $("#convoy-departure").value = localInput(new Date(b.planned_departure));
  $("#convoy-arrival").value = b.expected_arrival ? localInput(new Date(b.expected_arrival)) : "";
  $("#convoy-trucks").value = b.trucks ?? "";
  $("#convoy-note").value = b.note || "";
  $("#manifest-lines").replaceChildren();
  for (const l of b.manifest) addLine($("#manifest-lines"), "manifest", l, false);
  show("#convoy-editing-banner");
  show("#cancel-convoy-edit");
  $("#create-convoy").textContent = tr("save_resend");
}
function resetConvoyForm() {
  convoyEditing = null;
  const f = $("#new-convoy");
  f.reset();
  clearErrors(f);
  $("#manifest-lines").replaceChildren();
  show("#convoy-editing-banner", false);
  show("#cancel-convoy-edit", false);
  $("#create-convoy").textContent = tr("create_convoy");
  fillConvoyForm();
}

async function submitConvoy(ev) {
  ev.preventDefault();
  const f = $("#new-convoy");
  clearErrors(f);
  let first = null;
  const fail = (control, message) => { setError(control, message); first ??= control; };
  const val = (id) => $("#convoy-" + id).value.trim();
  const [organization, reference, route, trucksText, note] = ["organization", "reference", "route", "trucks", "note"].map(val);
  const departure = fromInput(val("departure")), arrival = fromInput(val("arrival"));
  for (const [ok, sel] of [[organization || !(ROLE === "admin" || MY_ORG), "organization"], [reference, "reference"], [route, "route"], [departure, "departure"]]) {
    if (!ok) fail($("#convoy-" + sel), tr("err_required"));
  }
  if (val("arrival") && !arrival) fail($("#convoy-arrival"), tr("err_time"));
  if (arrival && departure && arrival <= departure) fail($("#convoy-arrival"), tr("err_arrival_before"));
  if (trucksText && (!/^\d+$/.test(trucksText) || +trucksText < 1 || +trucksText > 1000)) fail($("#convoy-trucks"), tr("err_trucks"));
  const manifest = [];
  for (const row of $$("#manifest-lines .line")) {
    const line = readLine(row, false);
    if (!line.commodity && !(line.tonnes ?? line.quantity)) continue; // an empty line is no line
    const bad = checkLine(row, line, null);
    if (bad) fail(...bad);
    manifest.push(line);
  }
  if (!manifest.length) fail($("#manifest"), tr("err_manifest_empty"));
  if (stopAt(first, f)) return;
  const id = convoyEditing?.id || uuid();
  const body = { id, reference, route, planned_departure: rfc3339(departure), manifest };
  if (organization) body.organization = organization;
  if (arrival) body.expected_arrival = rfc3339(arrival);
  if (trucksText) body.trucks = +trucksText;
  if (note) body.note = note;
  await putEntry({
    ...(convoyEditing || {}), id, type: "convoy", state: "queued", body, error: null, http_status: null,
    created_at: convoyEditing?.created_at || Date.now(),
  });
  say(tr("convoy_queued", { reference }));
  resetConvoyForm();
  await changed();
  await renderPicker();
  sendQueue();
}

// Connection state, wiring

function showOnline() {
  const s = $("#online-state");
  if (!s) return;
  s.textContent = navigator.onLine ? tr("online") : tr("offline");
  s.dataset.online = String(navigator.onLine);
}

const clicks = {
  "change-convoy": () => { closeEventForm(); $("#convoy-filter").focus(); },
  "cancel-event": () => { closeEventForm(); $("#log-h").focus(); },
  "cancel-correction": () => pickConvoy(form.convoy.id),
  "add-cargo-line": () => $("select", addLine($("#cargo-lines"), "cargo")).focus(),
  "add-manifest-line": () => $("select", addLine($("#manifest-lines"), "manifest", {}, false)).focus(),
  "send-now": () => sendQueue(),
  "clear-sent": async () => {
    await deleteEntries((await allEntries()).filter((e) => e.state === "sent").map((e) => e.id));
    await changed();
  },
  "cancel-convoy-edit": () => resetConvoyForm(),
};
function wire() {
  $("#writer").addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.convoyId) pickConvoy(b.dataset.convoyId);
    else if (b.dataset.kind) setKind(b.dataset.kind);
    else if (b.dataset.eventId) startCorrection(b.dataset.eventId);
    else if (b.dataset.action) queueAction(b);
    else if (b.dataset.part === "remove") removeLine(b.closest(".line"));
    else clicks[b.id]?.();
  });
  $("#convoy-filter").addEventListener("input", renderPicker);
  $("#event-checkpoint").addEventListener("change", () => { form.checkpointTouched = true; setError($("#event-checkpoint"), ""); });
  $("#event-time").addEventListener("input", () => { form.timeTouched = true; setError($("#event-time"), ""); });
  $("#cargo-changed").addEventListener("toggle", () => {
    if ($("#cargo-changed").open && !$("#cargo-lines .line")) addLine($("#cargo-lines"), "cargo");
  });
  $("#writer").addEventListener("change", (e) => { setError(e.target, ""); updateCarried(); });
  $("#writer").addEventListener("input", (e) => setError(e.target, ""));
  $("#event-form").addEventListener("submit", submitEvent);
  $("#new-convoy").addEventListener("submit", submitConvoy);
  $("#correct-event").addEventListener("toggle", () => { if ($("#correct-event").open) renderCorrectList(); });
}
function removeLine(row) {
  const box = row.parentElement;
  $("select", row.nextElementSibling || row.previousElementSibling || box.nextElementSibling)?.focus();
  row.remove();
  if (!$(".line", box)) box.parentElement.querySelector("[id^=add-]").focus();
}

async function start() {
  showOnline();
  addEventListener("online", () => { showOnline(); if (CAN_WRITE) { sendQueue(); loadAll(true); } });
  addEventListener("offline", showOnline);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});
    // The first visit's data was fetched before the worker took over: fetch it again
    // through it so that it is there offline.
    navigator.serviceWorker.addEventListener("controllerchange", () => { if (navigator.onLine && CAN_WRITE) loadAll(true); });
  }
  navigator.storage?.persist?.().catch(() => {});
  if (!CAN_WRITE || !$("#writer")) {
    $("#writer")?.remove();
    const note = $("#viewer-note");
    if (note) note.hidden = false;
    return;
  }
  wire();
  channel && (channel.onmessage = () => { renderQueue(); renderPicker(); });
  await renderQueue();
  if (navigator.onLine) sendQueue();
  await loadAll();
  setInterval(() => { if (navigator.onLine) sendQueue(); }, 30000);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && navigator.onLine) sendQueue(); });
}

start();
