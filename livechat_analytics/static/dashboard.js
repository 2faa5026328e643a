/* The dashboard page: a thin client of the analytics API. It sends only the API's own GET
 * requests, with the X-User-Id and X-Auth-Token headers any client sends, and no cookies.
 *
 * The page loads it as a module (strict mode, deferred: it runs before the chart library, which the
 * panels wait for before they draw, so that the page shows and asks while the library loads). One
 * dialect: const and let, function declarations for named functions, arrow functions for the rest. */
const body = document.body;
const API = body.dataset.apiRoot;
const PAGE_SIZE = body.dataset.pageSize;
// The eight department metrics as the server's department rows declare them: path, title, the row
// field shown, its unit ("count", "seconds" or "percent"), the list of rooms behind its number
// ({what, query}, or null) and, for one of them, a field "also" shown.
const METRICS = JSON.parse(body.dataset.metrics);
const KEYS = {
  user: "livechat-analytics.userId",
  token: "livechat-analytics.token",
  noMeteor: "livechat-analytics.ignoreStoredLogin",
};
const STATUSES = [
  ["open", "Open (served)"],
  ["closed", "Closed"],
  ["queued", "Queued"],
  ["onhold", "On hold"],
];
// What a card counts, where its title alone would read as a neighbour's number.
const NOTES = {
  Open_conversations: "served and queued",
  On_Hold_conversations: "served, waiting on hold",
};
const COLOURS = ["#1d74f5", "#f5455c", "#2de0a5", "#ffd21f", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d"];

const state = {
  credentials: null,
  generation: 0, // one more for each refresh: an answer to an older one is dropped
  departments: {}, // id -> name, as the rows or chats-per-department tell
  rows: [],
  breaches: [], // the breached rooms, each with its department's label
  // Each sortable table's order: the departments by the first metric, most first; the breaches as
  // the API orders them, furthest over the target first.
  sorts: {
    departments: { key: METRICS[0].field, descending: true },
    breaches: { key: "overBySeconds", descending: true },
    list: { key: "createdAt", descending: true },
  },
  list: null, // the list open in the dialog: its words, query, offset and opener
  slaQuery: null, // what the service-level panel asked with, for the lists behind its numbers
  refused: false, // whether the API refused this refresh's window or the user (400, 403)
  schedules: null, // whether a business-hours schedule is stored: null until the API has said
  charts: {},
  window: null,
};

// The chart library, loaded after this script (deferred, in the page's order).
const chartLibrary = window.Chart
  ? Promise.resolve()
  : new Promise((resolve) => document.getElementById("chart-library").addEventListener("load", resolve));

class ApiError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details; // the 400's parameters, by name
  }
}

/* A control the page cannot ask with: said once at the top, as a refused parameter is. */
class ControlError extends ApiError {
  constructor(message) {
    super(0, message);
  }
}

function $(id) {
  return document.getElementById(id);
}

/* ---- signing in ---- */

function storage(kind) {
  try {
    return window[kind];
  } catch {
    return null; // storage switched off
  }
}

function readCredentials() {
  const session = storage("sessionStorage");
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("userId") && fragment.get("token") && session) {
    // From the demo's printed URL: into this tab's storage, and out of the address bar.
    session.setItem(KEYS.user, fragment.get("userId"));
    session.setItem(KEYS.token, fragment.get("token"));
    session.removeItem(KEYS.noMeteor);
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (session?.getItem(KEYS.user) && session.getItem(KEYS.token)) {
    return { user: session.getItem(KEYS.user), token: session.getItem(KEYS.token), source: "this tab" };
  }
  const local = storage("localStorage");
  if (local && !session?.getItem(KEYS.noMeteor)) {
    const user = local.getItem("Meteor.userId");
    const token = local.getItem("Meteor.loginToken");
    if (user && token) return { user, token, source: "the livechat web client's login" };
  }
  return null;
}

function showSignIn(message) {
  $("sign-in").hidden = false;
  $("who").hidden = true;
  if (message) alertText(message);
  if (state.credentials) $("user-id").value = state.credentials.user;
  $("user-id").focus();
}

function signedIn(credentials) {
  state.credentials = credentials;
  state.schedules = null; // asked again: another user may see another server's schedules
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("who").hidden = false;
  $("who-text").textContent = `Signed in as ${credentials.user} (from ${credentials.source})`;
  $("who-text").title = $("who-text").textContent; // in full, where the line is cut
  refresh();
  startNow();
}

$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const user = $("user-id").value.trim();
  const token = $("token").value.trim();
  if (!user || !token) return;
  const session = storage("sessionStorage");
  if (session) {
    session.setItem(KEYS.user, user);
    session.setItem(KEYS.token, token);
  }
  $("token").value = "";
  alertText("");
  signedIn({ user, token, source: "this tab" });
});

$("sign-out").addEventListener("click", () => {
  const session = storage("sessionStorage");
  if (session) {
    session.removeItem(KEYS.user);
    session.removeItem(KEYS.token);
    session.setItem(KEYS.noMeteor, "1");
  }
  state.credentials = null;
  state.generation++;
  stopNow();
  emptyNow();
  blank();
  $("dashboard").hidden = true;
  showSignIn("Signed out of this page.");
});

/* The alert at the top: empty (hidden), or ``text`` alone. */
function alertText(text) {
  $("alert").replaceChildren();
  $("alert").hidden = true;
  if (text) say(text);
}

/* Add ``text`` to the alert at the top, unless it says it already: one message however many panels
 * failed for the same reason. */
function say(text) {
  const alert = $("alert");
  if ([...alert.children].some((line) => line.textContent === text)) return;
  const line = document.createElement("p");
  line.textContent = text;
  alert.appendChild(line);
  alert.hidden = false;
}

/* ---- the window and the query ---- */

function browserTimezone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function knownTimezone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function todayIn(timezone) {
  // en-CA writes dates as YYYY-MM-DD.
  const format = { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" };
  return new Intl.DateTimeFormat("en-CA", format).format(new Date());
}

function addDays(date, days) {
  const moment = new Date(`${date}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + days);
  return moment.toISOString().slice(0, 10);
}

function currentWindow() {
  const timezone = $("timezone").value.trim() || browserTimezone();
  if (!knownTimezone(timezone)) {
    throw new ApiError(
      0,
      `Unknown timezone \u201c${timezone}\u201d: choose one from the list, such as Europe/Berlin.`,
    );
  }
  const today = todayIn(timezone);
  const range = $("range").value;
  let start = today;
  let end = today;
  if (range === "last7") start = addDays(today, -6);
  else if (range === "last30") start = addDays(today, -29);
  else if (range === "month") start = `${today.slice(0, 8)}01`;
  else if (range === "custom") {
    start = $("start").value;
    end = $("end").value;
    if (!start || !end) throw new ApiError(0, "Choose the first and the last day of the range.");
    if (start > end) throw new ApiError(0, "The range's first day is after its last day.");
  }
  return { start, end, timezone, department: $("department").value, groupBy: $("group-by").value };
}

function params(extra = {}) {
  const { start, end, timezone, department } = state.window;
  const query = new URLSearchParams({ start, end });
  if (department) query.set("departmentId", department);
  query.set("timezone", timezone);
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  return query;
}

function url(path, extra) {
  return `${API}/${path}?${params(extra)}`;
}

function headers(accept) {
  return { "X-User-Id": state.credentials.user, "X-Auth-Token": state.credentials.token, Accept: accept };
}

/* GET an endpoint: its JSON body (the response itself for CSV), or an ApiError with a readable message. */
async function get(path, extra, accept = "application/json") {
  let response;
  try {
    response = await fetch(url(path, extra), {
      headers: headers(accept),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, `The API could not be reached (${error.message}).`);
  }
  if (response.ok) return accept === "text/csv" ? response : response.json();
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  throw new ApiError(
    response.status,
    explain(response.status, answer.error || answer.message || response.statusText),
    answer.details,
  );
}

function explain(status, error) {
  if (status === 401) {
    return `The API refused this user id and token (401: ${error}). Sign in again.`;
  }
  if (status === 403) return `This user may not see these numbers (403: ${error}).`;
  return `The API answered ${status}: ${error}`;
}

/* Say why a panel is empty. A refused login hides the dashboard behind the sign-in form; a refused
 * parameter (400) or permission (403) is said once at the top, as every panel shares it; anything
 * else is said in the panel. */
function fail(panel, error) {
  panel.classList.add("failed");
  if (error.status === 401) return refused(error.message);
  if (error instanceof ControlError) return say(error.message);
  if (error.status === 400 || error.status === 403) {
    state.refused = true;
    return say(error.message);
  }
  const message = panel.querySelector(".message");
  message.textContent = error.message;
  message.hidden = false;
}

function refused(message) {
  if ($("list").open) $("list").close();
  stopNow();
  emptyNow();
  state.generation++; // the other panels' answers to the refused login are dropped
  blank();
  $("dashboard").hidden = true;
  body.dataset.busy = "false";
  showSignIn(message);
}

function clearFailure(panel) {
  const message = panel.querySelector(".message");
  message.hidden = true;
  message.textContent = "";
  panel.classList.remove("failed");
}

/* ---- formatting ---- */

function twoDigits(number) {
  return String(number).padStart(2, "0");
}

function duration(seconds) {
  const whole = Math.round(seconds);
  return [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60].map(twoDigits).join(":");
}

/* A value as the page shows it, by its unit: "count", "seconds", "percent" or "rate" (a percentage
 * to two decimals, as the API rounds compliance: 64.60 %, not 64.6 %). */
function shown(unit, value) {
  if (value === null || value === undefined) return "\u2013";
  if (unit === "seconds") return duration(value);
  if (unit === "percent") return `${value} %`;
  if (unit === "rate") return `${value.toFixed(2)} %`;
  return String(value);
}

/* A chart's tick or tooltip value, by the metric's unit. */
function tick(unit) {
  return (value) => shown(unit, value);
}

/* A label in lines of at most 18 characters, broken at spaces, so that the chart's axis grows to
 * its widest line instead of cutting a long name's first letters. */
function lines(label) {
  const result = [];
  for (const word of String(label).split(" ")) {
    const last = result.length - 1;
    if (last >= 0 && result[last].length + word.length < 18) result[last] += ` ${word}`;
    else result.push(word);
  }
  return result;
}

/* An axis at least as wide as its widest label's line (Chart.js caps an axis at part of the chart,
 * and draws a longer label past the canvas's edge). */
function fitLabels(scale) {
  const context = scale.ctx;
  context.save();
  context.font = window.Chart.helpers.toFont(scale.options.ticks.font).string;
  const texts = scale.getLabels().flat();
  const widest = Math.max(0, ...texts.map((text) => context.measureText(text).width));
  context.restore();
  const room = scale.options.ticks.padding + scale.options.grid.tickLength + 2;
  scale.width = Math.max(scale.width, Math.ceil(widest + room));
}

function words(title) {
  return String(title).replace(/_/g, " ");
}

function departmentName(id) {
  if (id === null || id === "") return "No department";
  const name = state.departments[id];
  if (!name) return id;
  const twins = Object.keys(state.departments).filter((other) => state.departments[other] === name);
  return twins.length > 1 ? `${name} (${id})` : name; // as the API labels two of one name
}

function bucketLabel(start, groupBy) {
  if (groupBy === "hour") return `${start.slice(0, 10)} ${start.slice(11, 16)}`;
  if (groupBy === "month") return start.slice(0, 7);
  return start.slice(0, 10);
}

function cell(row, text, header) {
  const element = document.createElement(header ? "th" : "td");
  if (header) element.scope = "row";
  element.textContent = text;
  row.appendChild(element);
  return element;
}

/* ---- charts ---- */

function dropChart(id) {
  if (state.charts[id]) state.charts[id].destroy();
  delete state.charts[id];
}

function chart(id, canvas, config) {
  config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new window.Chart(canvas, config);
  return state.charts[id];
}

function describe(canvas, title, labels, values) {
  const numbers = labels.map((label, index) => `${label} ${values[index]}`).join(", ");
  canvas.setAttribute("aria-label", `${title}: ${numbers}.`);
}

/* ---- the panels ---- */

/* Load one panel: ask() the API, then draw() its answer (done when the promise it may return is);
 * when either fails, empty() the panel and say why. An answer that arrives after a newer refresh
 * began (or a sign-out) is dropped. */
async function loadPanel({ panel, ask, draw, empty }) {
  const generation = state.generation;
  try {
    const answer = await ask();
    await chartLibrary;
    await nextTask(); // each panel drawn in a task of its own, however many waited for the library
    if (generation !== state.generation) return;
    clearFailure(panel);
    await draw(answer);
  } catch (error) {
    if (generation !== state.generation) return;
    empty();
    fail(panel, error);
  }
}

function panelOf(id) {
  return $(id).closest(".panel");
}

/* Every panel, as loadPanel() takes it. */
function panels() {
  return [
    cardsPanel("conversation-cards"),
    cardsPanel("productivity-cards"),
    statusPanel(),
    trendPanel(),
    heatmapPanel(),
    slaPanel(),
    satisfactionPanel(),
    departmentsPanel(),
  ];
}

/* A blank element of the page's placeholders: drawn in the shape of what it stands for until that
 * arrives, so that nothing moves when it does, and hidden from assistive tech. */
function blankElement(tag, className = "blank") {
  const made = document.createElement(tag);
  made.className = className;
  made.setAttribute("aria-hidden", "true");
  return made;
}

/* A blank table row of ``cells`` cells, a row header (``header``, if known) first. */
function blankRow(cells, header = "\u00a0") {
  const row = blankElement("tr");
  for (let index = 0; index < cells; index++) cell(row, index ? "\u00a0" : header, index === 0);
  return row;
}

/* Every panel emptied, none saying why: what they showed no longer stands. */
function blank() {
  for (const spec of panels()) {
    spec.empty();
    clearFailure(spec.panel);
  }
  $("window").textContent = "";
}

function cardsPanel(id) {
  const holder = $(id);
  return {
    panel: panelOf(id),
    ask: () => get(holder.dataset.endpoint),
    draw: (answer) => holder.replaceChildren(...answer.totalizers.map(card)),
    empty: () => holder.replaceChildren(...blankCards(Number(holder.dataset.cards))),
  };
}

/* ``count`` blank cards, each the size of a card. */
function blankCards(count) {
  return Array.from({ length: count }, () => {
    const made = blankElement("div", "card blank");
    for (const part of ["card-title", "card-note", "card-figure"]) {
      made.appendChild(blankElement("span", part)).textContent = "\u00a0";
    }
    return made;
  });
}

function card(totalizer) {
  const made = newCard(words(totalizer.title), NOTES[totalizer.title], String(totalizer.value));
  const value = made.querySelector(".card-value");
  value.dataset.title = totalizer.title;
  const found = CARD_LISTS[totalizer.title];
  if (found) drillIn(value, { words: listWords(found.what), query: found.query });
  return made;
}

/* A card: its title, a note in brackets (if any) and its value, as text. */
function newCard(title, note, text) {
  const made = document.createElement("div");
  made.className = "card";
  const heading = document.createElement("span");
  heading.className = "card-title";
  heading.textContent = title;
  made.append(heading);
  if (note) {
    const aside = document.createElement("span");
    aside.className = "card-note";
    aside.textContent = `(${note})`;
    made.append(aside);
  }
  const value = document.createElement("span");
  value.className = "card-value";
  value.textContent = text;
  made.append(value);
  return made;
}

function statusPanel() {
  return {
    panel: panelOf("status-title"),
    ask: () => get("dashboards/charts/chats"),
    draw: drawStatus,
    empty: () => {
      dropChart("status");
      $("status-table").tBodies[0].replaceChildren(...STATUSES.map(([, label]) => blankRow(2, label)));
    },
  };
}

function statusDrill(status) {
  return { words: listWords(STATUS_WORDS[status]), query: { status } };
}

function drawStatus(answer) {
  const labels = STATUSES.map(([, label]) => label);
  const values = STATUSES.map(([key]) => answer[key]);
  const tbody = $("status-table").tBodies[0];
  tbody.replaceChildren();
  STATUSES.forEach(([key], index) => {
    const row = tbody.insertRow();
    cell(row, labels[index], true);
    const td = cell(row, String(values[index]));
    td.dataset.status = key;
    drillIn(td, statusDrill(key));
  });
  const canvas = $("status-chart");
  describe(canvas, "Chats by status", labels, values);
  chart("status", canvas, {
    type: "bar",
    data: { labels, datasets: [{ label: "Chats", data: values, backgroundColor: COLOURS.slice(0, 4) }] },
    options: {
      plugins: { legend: { display: false } },
      onClick: chartDrill((index) => values[index] && statusDrill(STATUSES[index][0])),
    },
  });
}

/* ---- service levels ---- */

const TARGET_RULE =
  "The target must be a whole number of seconds from 1 to 2592000 (30 days); leave it empty for each room's SLA policy.";
const MOST_TARGET = 2592000;
// The breaches' columns: the row field, its heading, and its unit (text columns sort from A).
const BREACH_COLUMNS = [
  { key: "_id", title: "Room", text: true },
  { key: "ts", title: "Created", text: true },
  { key: "department", title: "Department", text: true },
  { key: "agentUsername", title: "Last agent", text: true },
  { key: "target", title: "Target", unit: "seconds" },
  { key: "firstResponseSeconds", title: "First response", unit: "seconds" },
  { key: "overBySeconds", title: "Over by", unit: "seconds" },
];
const SLA_COLUMNS = [
  { key: "name", title: "Department" },
  { key: "compliance", title: "Compliance", unit: "rate" },
  { key: "eligible", title: "With a target", unit: "count" },
  { key: "met", title: "Met", unit: "count" },
  { key: "breached", title: "Breached", unit: "count" },
  { key: "pending", title: "Pending", unit: "count" },
  { key: "unansweredWithinTarget", title: "Unanswered within target", unit: "count" },
  { key: "noTarget", title: "No target", unit: "count" },
  { key: "p50", title: "Wait, median", unit: "seconds" },
  { key: "p90", title: "Wait, 90th percentile", unit: "seconds" },
];

/* What the service-level requests add to the window: the target typed (none: each room's policy)
 * and businessHours when the switch is on; a ControlError when the target is not one the API takes. */
function slaQuery() {
  const input = $("sla-target");
  const text = input.value.trim();
  const query = {};
  if (input.validity.badInput) throw new ControlError(TARGET_RULE);
  if (text) {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MOST_TARGET)
      throw new ControlError(TARGET_RULE);
    query.target = String(Number(text));
  }
  if (state.schedules && $("sla-hours").checked) query.businessHours = "true";
  return query;
}

/* The window of equal length that ends the day before the window starts. */
function previousWindow() {
  const { start, end } = state.window;
  const days = Math.round((Date.parse(end) - Date.parse(start)) / 86400000) + 1;
  return { start: addDays(start, -days), end: addDays(start, -1), days };
}

/* Whether a business-hours schedule is stored, asked once a sign-in: businessHours=true answers, or
 * is refused by a 400 naming it. Any other failure leaves it unknown, asked again next time. */
async function askSchedules(query) {
  try {
    // Over the window's last day only: the answer says whether a schedule exists, at little cost.
    await get("sla/compliance", { ...query, start: state.window.end, businessHours: "true" });
    state.schedules = true;
  } catch (error) {
    if (error.details?.businessHours) state.schedules = false;
  }
  $("sla-hours-control").hidden = !state.schedules;
}

function slaPanel() {
  return {
    panel: panelOf("sla-title"),
    ask: askSla,
    draw: drawSla,
    empty: () => {
      $("sla-cards").replaceChildren(...blankCards(Number($("sla-cards").dataset.cards)));
      state.breaches = [];
      drawBreaches();
      $("sla-breaches-note").textContent = "";
      drawSlaDepartments([]);
      $("sla-target-note").textContent = "";
    },
  };
}

/* The window's compliance, the previous window's, the departments' and the breaches, in one go. */
async function askSla() {
  const query = slaQuery();
  const { start, end } = previousWindow();
  const [now, before, departments, breaches] = await Promise.all([
    get("sla/compliance", query),
    get("sla/compliance", { ...query, start, end }),
    get("sla/compliance", { ...query, groupBy: "department", names: "true", count: PAGE_SIZE }),
    get("sla/breaches", { ...query, count: PAGE_SIZE }),
    state.schedules === null ? askSchedules(query) : null,
  ]);
  return { query, now, before, departments, breaches };
}

function drawSla({ query, now, before, departments, breaches }) {
  state.slaQuery = query;
  $("sla-target-note").textContent = targetNote(query, now);
  $("sla-cards").replaceChildren(...slaCards(now.groups[0], before.groups[0]));
  for (const row of departments.groups) {
    if (row.name) state.departments[row._id === null ? "" : row._id] = row.name;
  }
  drawSlaDepartments(departments.groups);
  state.breaches = breaches.breaches.map((row) => ({ ...row, department: departmentName(row.departmentId) }));
  drawBreaches();
  const shownRows = state.breaches.length;
  $("sla-breaches-note").textContent =
    shownRows === breaches.total
      ? `${breaches.total} breached rooms.`
      : `The ${shownRows} furthest over their target of ${breaches.total} breached rooms; the CSV has them all.`;
}

function targetNote(query, answer) {
  const target = query.target
    ? `${duration(query.target)} (${query.target} s) for every room`
    : "per SLA policy";
  const time = query.businessHours
    ? `business hours (${answer.roomsWithoutSchedule} rooms without a schedule in calendar time)`
    : "calendar time";
  return `Target: ${target}. Waits counted in ${time}.`;
}

/* The window's ten cards: its compliance, the previous window's, the outcomes and the waits. */
function slaCards(now, before) {
  const days = previousWindow().days;
  const cards = [
    ["Compliance", "this period", shown("rate", now.compliance), "compliance"],
    ["Previous period", `${days} days before`, shown("rate", before.compliance), "previous"],
    ["With a target", "rooms", now.eligible, "eligible"],
    ["Met", "", now.met, "met"],
    ["Breached", "", now.breached, "breached"],
    ["Pending", "", now.pending, "pending"],
    ["Unanswered within target", "", now.unansweredWithinTarget, "unansweredWithinTarget"],
    ["No target", "rooms", now.noTarget, "noTarget"],
    ["Wait, median", "", shown("seconds", now.p50), "p50"],
    ["Wait, 90th percentile", "", shown("seconds", now.p90), "p90"],
  ];
  return cards.map(([title, note, text, field]) => {
    const made = newCard(title, note, String(text));
    const value = made.querySelector(".card-value");
    value.dataset.field = field;
    drillIn(value, slaDrill(field));
    return made;
  });
}

/* A moment as the chosen timezone's wall clock, to the minute: 2026-03-29 02:30. */
function wallClock(iso) {
  const format = {
    timeZone: state.window.timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  };
  return new Intl.DateTimeFormat("en-CA", format).format(new Date(iso)).replace(", ", " ");
}

function drawBreaches() {
  const table = $("sla-breaches");
  const buttons = BREACH_COLUMNS.map((column) => sortButton(table, column, "breaches", drawBreaches));
  table.tHead.rows[0].replaceChildren(...buttons);
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  const tie = (a, b) => (a._id < b._id ? -1 : Number(a._id > b._id)); // as the API orders ties
  for (const row of sortedRows(state.breaches, state.sorts.breaches, tie)) {
    const tr = tbody.insertRow();
    tr.dataset.room = row._id;
    cell(tr, row._id, true);
    for (const column of BREACH_COLUMNS.slice(1)) {
      const value = row[column.key];
      const text = column.key === "ts" ? wallClock(value) : shown(column.unit, value);
      const td = cell(tr, text);
      td.dataset.field = column.key;
      td.dataset.value = value === null ? "" : value;
    }
  }
}

function drawSlaDepartments(groups) {
  const table = $("sla-departments");
  const head = document.createElement("tr");
  for (const column of SLA_COLUMNS) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = column.title;
    head.appendChild(th);
  }
  table.tHead.replaceChildren(head);
  const rows = groups.map((row) => ({ ...row, name: departmentName(row._id) }));
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const row of rows.sort((a, b) => a.name.localeCompare(b.name))) {
    const tr = tbody.insertRow();
    tr.dataset.department = row._id === null ? "" : row._id;
    cell(tr, row.name, true);
    for (const column of SLA_COLUMNS.slice(1)) {
      const td = cell(tr, shown(column.unit, row[column.key]));
      td.dataset.field = column.key;
      drillIn(td, slaDrill(column.key, tr.dataset.department));
    }
  }
}

function departmentsPanel() {
  // names=true: the rows carry their department's name whatever LIVECHAT_ANALYTICS_DEPARTMENT_NAMES says.
  const extra = { count: PAGE_SIZE, names: "true" };
  return {
    panel: panelOf("departments-title"),
    ask: () => Promise.all(METRICS.map((metric) => get(`departments/${metric.path}`, extra))),
    draw: (answers) => {
      state.rows = departmentRows(answers);
      if (!state.window.department) updateDepartmentChoices(state.rows);
      drawDepartmentTable();
      return drawDepartmentCharts();
    },
    empty: () => {
      state.rows = [];
      drawDepartmentTable();
      blankDepartmentCharts();
    },
  };
}

/* One row per department with the fields of every metric's answer; the names remembered. */
function departmentRows(answers) {
  const byId = {};
  for (const answer of answers) {
    for (const row of answer.departments) {
      const key = row._id === null ? "" : row._id;
      if (row.name) state.departments[key] = row.name;
      byId[key] = { ...byId[key], ...row, _id: key };
    }
  }
  const rows = Object.values(byId);
  for (const row of rows) row.name = departmentName(row._id);
  relabelNow();
  return rows;
}

function columns() {
  const list = [{ key: "name", title: "Department", text: true }];
  for (const metric of METRICS) {
    list.push({ key: metric.field, title: metric.title, unit: metric.unit, metric });
    if (metric.also) list.push({ key: metric.also.field, title: metric.also.title, unit: "count", metric });
  }
  return list;
}

function updateDepartmentChoices(rows) {
  const select = $("department");
  const chosen = select.value;
  const known = {};
  for (const option of select.options) {
    if (option.value) known[option.value] = option;
  }
  for (const row of rows) {
    if (!row._id) continue; // rooms without a department cannot be chosen by id
    const option = known[row._id] || document.createElement("option");
    option.value = row._id;
    option.textContent = departmentName(row._id);
    known[row._id] = option;
  }
  const sorted = Object.values(known).sort((a, b) => a.textContent.localeCompare(b.textContent));
  select.replaceChildren(select.options[0], ...sorted);
  select.value = chosen;
}

/* A column's heading in ``table``: a button that sorts by the column (the order kept in
 * ``state.sorts[name]``) and calls ``draw``; pressed again, it reverses. Text columns start from A,
 * the others from the most. */
function sortButton(table, column, name, draw) {
  const th = document.createElement("th");
  th.scope = "col";
  const { key, descending } = state.sorts[name];
  const sorted = key === column.key;
  th.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.sort = column.key;
  button.textContent = column.title + (sorted ? (descending ? " \u25bc" : " \u25b2") : "");
  button.addEventListener("click", () => {
    const sort = state.sorts[name];
    const again = sort.key === column.key;
    state.sorts[name] = { key: column.key, descending: again ? !sort.descending : !column.text };
    draw();
    table.querySelector(`button[data-sort="${column.key}"]`).focus();
  });
  th.appendChild(button);
  return th;
}

/* ``rows`` in the order ``sort`` says, missing values last; ties in the order ``tie`` says. */
function sortedRows(rows, sort, tie) {
  const { key, descending } = sort;
  const sign = descending ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return tie(a, b);
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    return (typeof x === "string" ? x.localeCompare(y) : x - y) * sign;
  });
}

function drawDepartmentTable() {
  const table = $("department-table");
  const list = columns();
  const buttons = list.map((column) => sortButton(table, column, "departments", drawDepartmentTable));
  table.tHead.rows[0].replaceChildren(...buttons);
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const row of sortedRows(state.rows, state.sorts.departments, (a, b) => a.name.localeCompare(b.name))) {
    const tr = tbody.insertRow();
    tr.dataset.department = row._id;
    cell(tr, row.name, true);
    for (const column of list.slice(1)) {
      const td = cell(tr, shown(column.unit, row[column.key]));
      td.dataset.field = column.key;
      td.dataset.value = row[column.key] === undefined ? "" : row[column.key];
      drillIn(td, departmentDrill(row, column.metric, column.key));
    }
  }
}

function departmentFigure(id, metric) {
  const figure = document.createElement("figure");
  figure.id = `${id}-figure`;
  figure.className = "chart-figure";
  const caption = document.createElement("figcaption");
  caption.textContent = metric.title + (metric.unit === "seconds" ? " (HH:MM:SS)" : "");
  const box = document.createElement("div");
  box.className = "chart small";
  const canvas = document.createElement("canvas");
  canvas.id = id;
  canvas.setAttribute("role", "img");
  box.appendChild(canvas);
  figure.append(caption, box);
  return figure;
}

/* The eight figures, each at the height it had (or a chart's least), their charts gone. */
function blankDepartmentCharts() {
  for (const metric of METRICS) {
    const id = `department-chart-${metric.path}`;
    dropChart(id);
    const figure = $(`${id}-figure`) || $("department-charts").appendChild(departmentFigure(id, metric));
    figure.classList.add("blank");
    figure.setAttribute("aria-hidden", "true");
    $(id).removeAttribute("aria-label");
    delete $(id).dataset.values;
  }
}

/* The eight charts, one a task (a phone's main thread stays free between them): the figures take
 * their final height first, at once. A newer refresh (or a sign-out) stops the drawing. */
async function drawDepartmentCharts() {
  const generation = state.generation;
  const grid = $("department-charts");
  const rows = state.rows.slice().sort((a, b) => a.name.localeCompare(b.name));
  for (const metric of METRICS) {
    const id = `department-chart-${metric.path}`;
    if (!$(`${id}-figure`)) grid.appendChild(departmentFigure(id, metric));
    // Room for every department's label, two lines each at most.
    $(id).parentElement.style.height = `${Math.max(200, 40 + rows.length * 34)}px`;
  }
  for (const [index, metric] of METRICS.entries()) {
    await nextTask();
    if (generation !== state.generation) return;
    departmentChart(metric, COLOURS[index], rows);
  }
}

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function departmentChart(metric, colour, rows) {
  const id = `department-chart-${metric.path}`;
  $(`${id}-figure`).classList.remove("blank");
  $(`${id}-figure`).removeAttribute("aria-hidden");
  const labels = rows.map((row) => row.name);
  const values = rows.map((row) => (row[metric.field] === undefined ? 0 : row[metric.field]));
  const target = $(id);
  const texts = values.map((value) => shown(metric.unit, value));
  describe(target, `${metric.title} per department`, labels, texts);
  target.dataset.values = JSON.stringify(values);
  const format = tick(metric.unit);
  chart(id, target, {
    type: "bar",
    data: {
      labels: labels.map(lines),
      datasets: [{ label: metric.title, data: values, backgroundColor: colour }],
    },
    options: {
      indexAxis: "y",
      scales: {
        x: { ticks: { callback: format, maxRotation: 0, autoSkipPadding: 12 } },
        y: { afterFit: fitLabels, ticks: { autoSkip: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => format(item.raw) } },
      },
      onClick: chartDrill((index) => values[index] && departmentDrill(rows[index], metric, metric.field)),
    },
  });
}

function trendMetric() {
  return METRICS.find((metric) => metric.path === $("trend-metric").value) || METRICS[0];
}

function trendQuery() {
  return { groupBy: state.window.groupBy, compare: "previous" };
}

function trendPanel() {
  const metric = trendMetric();
  const extra = state.window ? trendQuery() : {};
  return {
    panel: panelOf("trend-title"),
    ask: () => get(`trends/${metric.path}`, extra),
    draw: (answer) => drawTrend(metric, extra.groupBy, answer),
    empty: () => {
      dropChart("trend");
      $("trend-table").tBodies[0].replaceChildren();
    },
  };
}

function drawTrend(metric, groupBy, answer) {
  const current = answer.series[0]?.buckets ?? [];
  const previous = answer.previous?.[0]?.buckets ?? [];
  const labels = current.map((bucket) => bucketLabel(bucket.start, groupBy));
  const values = current.map((bucket) => bucket[metric.field]);
  const before = previous.map((bucket) => bucket[metric.field]);
  const found = behind(metric, metric.field);
  // The previous window ends where this one starts; this one, on its last day.
  const drillAt = (index, series) =>
    series
      ? bucketDrill(found, previous, index, current[0] && justBefore(current[0].start))
      : bucketDrill(found, current, index, state.window.end);
  const tbody = $("trend-table").tBodies[0];
  tbody.replaceChildren();
  current.forEach((_, index) => {
    const row = tbody.insertRow();
    cell(row, labels[index], true);
    drillIn(cell(row, shown(metric.unit, values[index])), drillAt(index, 0));
    cell(row, previous[index] ? bucketLabel(previous[index].start, groupBy) : "\u2013");
    drillIn(cell(row, previous[index] ? shown(metric.unit, before[index]) : "\u2013"), drillAt(index, 1));
  });
  const canvas = $("trend-chart");
  canvas.dataset.values = JSON.stringify(values);
  canvas.dataset.previous = JSON.stringify(before);
  canvas.setAttribute(
    "aria-label",
    `${metric.title} by ${groupBy}, this period against the previous one; the numbers are in the table below.`,
  );
  const grey = "#9ea2a8";
  chart("trend", canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        {
          label: `${metric.title}, this period`,
          data: values,
          borderColor: COLOURS[0],
          backgroundColor: COLOURS[0],
        },
        {
          label: "Previous period",
          data: before,
          borderColor: grey,
          backgroundColor: grey,
          borderDash: [6, 4],
        },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      onClick: chartDrill((index, series) => drillAt(index, series)),
      scales: { y: { ticks: { callback: tick(metric.unit) } } },
      plugins: {
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${shown(metric.unit, item.raw)}` } },
      },
    },
  });
}

function heatmapPanel() {
  const table = $("heatmap");
  return {
    panel: panelOf("heatmap-title"),
    ask: () => get("trends/heatmap"),
    draw: drawHeatmap,
    empty: () => {
      table.tHead.replaceChildren(heatmapHead());
      table.tBodies[0].replaceChildren(...Array.from({ length: 7 }, () => blankRow(25)));
      $("busiest").textContent = "";
    },
  };
}

const HEAT = [11, 91, 211]; // the accent, #0b5bd3
const INK = 0.0159; // the relative luminance of the ink, #1f2329

function luminance(rgb) {
  const linear = rgb.map((channel) => {
    const value = channel / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
}

/* A heatmap cell's colours for a share ``strength`` of the busiest cell: the accent over white,
 * more opaque for more chats, with ink or white text, whichever reads at 4.5:1 at least. Past the
 * opacities where neither does, the cell takes the first opacity where white text does. */
function heat(strength) {
  let opacity = 0.06 + 0.94 * strength;
  for (;;) {
    const rgb = HEAT.map((channel) => Math.round(255 - (255 - channel) * opacity));
    const light = luminance(rgb);
    if ((light + 0.05) / (INK + 0.05) >= 4.5) return { background: `rgb(${rgb})`, text: "#1f2329" };
    if (1.05 / (light + 0.05) >= 4.5 || opacity >= 1) return { background: `rgb(${rgb})`, text: "#fff" };
    opacity = Math.min(1, opacity + 0.02);
  }
}

function hours(hour) {
  return `${twoDigits(hour)}:00\u2013${twoDigits(hour)}:59`;
}

/* The heatmap's head row: the weekday, then the 24 hours. */
function heatmapHead() {
  const head = document.createElement("tr");
  cell(head, "Weekday", true).scope = "col";
  for (let hour = 0; hour < 24; hour++) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = twoDigits(hour);
    th.title = hours(hour);
    head.appendChild(th);
  }
  return head;
}

function drawHeatmap(answer) {
  const table = $("heatmap");
  const most = Math.max(1, ...answer.weekdays.flatMap((day) => day.hours));
  table.tHead.replaceChildren(heatmapHead());
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const day of answer.weekdays) {
    const row = tbody.insertRow();
    cell(row, day.weekday, true);
    day.hours.forEach((count, hour) => {
      const td = cell(row, String(count));
      const colours = heat(count / most);
      td.style.backgroundColor = colours.background;
      td.style.color = colours.text;
      td.title = `${day.weekday} ${twoDigits(hour)}:00: ${count} chats`;
      td.dataset.hour = hour;
      drillIn(td, heatmapDrill(day.weekday, hour));
    });
  }
  const busiest = answer.busiest;
  showBusiest(table, busiest);
  roveTo(table.querySelector("td.busiest button.drill") || table.querySelector("button.drill"), false);
  $("busiest").textContent = busiest?.weekday
    ? `Busiest: ${busiest.weekday}, ${hours(busiest.hour)} (${answer.timezone}).`
    : "No chats started in this range.";
}

/* Mark the busiest cell, and scroll the heatmap (wider than a phone) to bring it into view. */
function showBusiest(table, busiest) {
  if (!busiest?.weekday) return;
  const row = [...table.tBodies[0].rows].find((tr) => tr.cells[0].textContent === busiest.weekday);
  const target = row?.querySelector(`td[data-hour="${busiest.hour}"]`);
  if (!target) return;
  target.classList.add("busiest");
  centreBusiest();
}

/* Scroll the heatmap to its busiest cell (again when the window's width changes). */
function centreBusiest() {
  const target = document.querySelector("#heatmap td.busiest");
  if (!target) return;
  const scroller = $("heatmap-scroll");
  const left = target.offsetLeft - (scroller.clientWidth - target.offsetWidth) / 2;
  scroller.scrollLeft = Math.max(0, left);
}

/* ---- satisfaction: what visitors rated, when the range holds any rating ----
 *
 * One satisfaction row for the range (groupBy none) and the trend of CSAT, asked together. With no
 * response the panel keeps its shape, its parts hidden, and says how ratings are collected. */

const RATINGS = ["1", "2", "3", "4", "5"];
const UNRATED =
  "No chat closed in this range was rated. Rocket.Chat's widget no longer asks visitors to rate their" +
  " chats: ratings are collected through its livechat/room.survey call; see the manual's Satisfaction page.";

function satisfactionPanel() {
  const extra = state.window ? trendQuery() : {};
  return {
    panel: panelOf("satisfaction-title"),
    ask: () => Promise.all([get("satisfaction"), get("trends/satisfaction", extra)]),
    draw: ([answer, trend]) => drawSatisfaction(answer.groups[0], trend, extra.groupBy),
    empty: () => {
      emptySatisfaction();
      $("satisfaction").classList.remove("unrated");
      $("satisfaction").dataset.responses = "";
      $("satisfaction-unrated").hidden = true;
    },
  };
}

/* The panel's parts in their blank shape: blank cards, the five ratings' rows, no chart. */
function emptySatisfaction() {
  $("satisfaction-line").textContent = "";
  $("satisfaction-cards").replaceChildren(...blankCards(Number($("satisfaction-cards").dataset.cards)));
  $("rating-table").tBodies[0].replaceChildren(...RATINGS.map((rating) => blankRow(2, rating)));
  $("csat-table").tBodies[0].replaceChildren();
  dropChart("ratings");
  dropChart("csat");
}

/* The range's ``row`` (groupBy none) and its CSAT ``trend``; the note alone when nothing was rated. */
function drawSatisfaction(row, trend, groupBy) {
  const rated = row.responses > 0;
  $("satisfaction").classList.toggle("unrated", !rated);
  $("satisfaction").dataset.responses = String(row.responses);
  $("satisfaction-unrated").textContent = rated ? "" : UNRATED;
  $("satisfaction-unrated").hidden = rated;
  if (!rated) return emptySatisfaction();
  // Two lines at most at phone width, the room its blank shape keeps.
  const closed = row.closedChats === 1 ? "closed chat" : "closed chats";
  $("satisfaction-line").textContent =
    `${row.responses} of ${row.closedChats} ${closed} rated, ${row.comments} with a comment.`;
  $("satisfaction-cards").replaceChildren(...satisfactionCards(row));
  drawRatings(row.distribution);
  drawCsatTrend(trend, groupBy);
}

function satisfactionCards(row) {
  const cards = [
    ["CSAT", "rated 4 or 5", shown("rate", row.csat), "csat"],
    ["Response rate", "of closed chats", shown("rate", row.responseRate), "responseRate"],
    ["Average rating", "of 5", row.average.toFixed(2), "average"],
    ["Responses", "", String(row.responses), "responses"],
    ["Closed chats", "served", String(row.closedChats), "closedChats"],
  ];
  return cards.map(([title, note, text, field]) => {
    const made = newCard(title, note, text);
    made.querySelector(".card-value").dataset.field = field;
    return made;
  });
}

/* The responses per rating, as a table and as a bar chart of one colour (the bars are labelled). */
function drawRatings(distribution) {
  const values = RATINGS.map((rating) => distribution[rating]);
  const tbody = $("rating-table").tBodies[0];
  tbody.replaceChildren();
  RATINGS.forEach((rating, index) => {
    const row = tbody.insertRow();
    cell(row, rating, true);
    cell(row, String(values[index])).dataset.rating = rating;
  });
  const canvas = $("rating-chart");
  describe(canvas, "Responses per rating", RATINGS, values);
  canvas.dataset.values = JSON.stringify(values);
  chart("ratings", canvas, {
    type: "bar",
    data: { labels: RATINGS, datasets: [{ label: "Responses", data: values, backgroundColor: COLOURS[0] }] },
    options: {
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: "Rating" } }, y: { ticks: { precision: 0 } } },
    },
  });
}

/* CSAT per bucket, this period and the previous one (a gap where a bucket has no response). */
function drawCsatTrend(answer, groupBy) {
  const current = answer.series[0]?.buckets ?? [];
  const previous = answer.previous?.[0]?.buckets ?? [];
  const labels = current.map((bucket) => bucketLabel(bucket.start, groupBy));
  const values = current.map((bucket) => bucket.csat);
  const before = previous.map((bucket) => bucket.csat);
  const tbody = $("csat-table").tBodies[0];
  tbody.replaceChildren();
  current.forEach((bucket, index) => {
    const row = tbody.insertRow();
    const earlier = previous[index];
    cell(row, labels[index], true);
    cell(row, shown("rate", bucket.csat));
    cell(row, String(bucket.responses));
    cell(row, earlier ? bucketLabel(earlier.start, groupBy) : "\u2013");
    cell(row, earlier ? shown("rate", earlier.csat) : "\u2013");
    cell(row, earlier ? String(earlier.responses) : "\u2013");
  });
  const canvas = $("csat-chart");
  canvas.dataset.values = JSON.stringify(values);
  canvas.dataset.previous = JSON.stringify(before);
  canvas.setAttribute(
    "aria-label",
    `CSAT by ${groupBy}, this period against the previous one; the numbers are in the table below.`,
  );
  const grey = "#9ea2a8";
  const line = (label, data, colour) => ({ label, data, borderColor: colour, backgroundColor: colour });
  chart("csat", canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        line("CSAT, this period", values, COLOURS[0]),
        { ...line("Previous period", before, grey), borderDash: [6, 4] },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { min: 0, max: 100, ticks: { callback: (value) => `${value} %` } } },
      plugins: {
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${shown("rate", item.raw)}` } },
      },
    },
  });
}

/* The panel's CSV links ask as it does: the range, per department, every rated chat, the trend. */
function satisfactionLinks() {
  const parts = { window: {}, departments: { groupBy: "department" }, responses: {}, trend: trendQuery() };
  for (const link of document.querySelectorAll("#satisfaction a.csv")) {
    link.dataset.extra = JSON.stringify(parts[link.dataset.part]);
  }
}

/* ---- the chats behind a number: GET conversations, listed in a dialog ---- */

const LIST_SIZE = 50;
// The list's columns: the row field, its heading, and its unit (text columns sort from A).
const LIST_COLUMNS = [
  { key: "_id", title: "Room", text: true },
  { key: "createdAt", title: "Created", text: true },
  { key: "status", title: "Status", text: true },
  { key: "departmentName", title: "Department", text: true },
  { key: "agentUsername", title: "Last agent", text: true },
  { key: "source", title: "Source", text: true },
  { key: "firstResponseSeconds", title: "First response", unit: "seconds" },
  { key: "chatDurationSeconds", title: "Duration", unit: "seconds" },
  { key: "messages", title: "Messages", unit: "count" },
  { key: "transfers", title: "Transfers", unit: "count" },
  { key: "rating", title: "Rating", unit: "count" },
];
// The cards and statuses that count rooms by their status.
const CARD_LISTS = {
  Total_conversations: { what: "Chats", query: {} },
  Open_conversations: { what: "Open and queued chats", query: { status: "open,queued" } },
  On_Hold_conversations: { what: "Chats on hold", query: { status: "onhold" } },
};
const STATUS_WORDS = {
  open: "Open chats",
  closed: "Closed chats",
  queued: "Queued chats",
  onhold: "Chats on hold",
};
const OUTCOME_WORDS = {
  met: "Chats that met the target",
  breached: "Chats that breached the target",
  pending: "Chats pending within the target",
  unansweredWithinTarget: "Chats unanswered within the target",
  noTarget: "Chats without a target",
};
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/* What lists the rooms behind a department metric's ``field``: its words and query, as the server
 * says (``list``), or null where no filter of the list counts what the number counts. */
function behind(metric, field) {
  return field === metric.field ? metric.list : null;
}

/* The list's filter in words: what, whose, when ("Abandoned chats of Sales, 2026-11-06 to
 * 2026-12-05"). ``department`` undefined: the page's own. */
function listWords(what, department, period) {
  const chosen = department === undefined ? state.window.department : department;
  const whose = chosen ? departmentName(chosen) : "all departments";
  return `${what} of ${whose}, ${period || `${state.window.start} to ${state.window.end}`}`;
}

/* ``text`` as a button that opens the list ``drill`` describes ({words, query, days}), named for
 * what it opens; a count of 0 stays text, as its list would be empty. */
function drillButton(text, drill) {
  if (text === "0" || !drill) return document.createTextNode(text);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "drill";
  button.textContent = text;
  button.setAttribute("aria-label", `${text}: list the ${lowerFirst(drill.words)}`);
  button.addEventListener("click", () => openList(button, drill));
  return button;
}

function chats(count) {
  return count === 1 ? "1 chat" : `${count} chats`;
}

function lowerFirst(text) {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/* Make the number in ``element`` a button opening ``drill``'s list. */
function drillIn(element, drill) {
  element.replaceChildren(drillButton(element.textContent, drill));
  return element;
}

/* A chart's onClick: the list of the element clicked, as ``drillAt(index, datasetIndex)`` gives. */
function chartDrill(drillAt) {
  return (event, _elements, made) => {
    const found = made.getElementsAtEventForMode(event, "nearest", { intersect: false }, true)[0];
    const drill = found && drillAt(found.index, found.datasetIndex);
    if (drill) openList(made.canvas, drill);
  };
}

/* The moment 1 ms before ``iso``: the inclusive end of a bucket that the next one's start ends. */
function justBefore(iso) {
  return new Date(Date.parse(iso) - 1).toISOString();
}

function departmentDrill(row, metric, field) {
  const found = behind(metric, field);
  if (!found || row._id === "") return null; // the rooms without a department: no filter names them
  return { words: listWords(found.what, row._id), query: { ...found.query, departmentId: row._id } };
}

function slaDrill(outcome, department) {
  const query = state.slaQuery;
  if (!OUTCOME_WORDS[outcome] || !query || department === "") return null;
  const target = query.target ? `target ${duration(query.target)}` : "target per SLA policy";
  const hoursText = query.businessHours ? ", in business hours" : "";
  const extra = department === undefined ? {} : { departmentId: department };
  return {
    words: `${listWords(OUTCOME_WORDS[outcome], department)} (${target}${hoursText})`,
    query: { ...query, ...extra, slaOutcome: outcome },
  };
}

/* A trend bucket's list: its start to the next bucket's (or ``last``, the window's end). */
function bucketDrill(found, buckets, index, last) {
  const bucket = buckets[index];
  if (!found || !bucket) return null;
  const end = buckets[index + 1] ? justBefore(buckets[index + 1].start) : last;
  const label = bucketLabel(bucket.start, state.window.groupBy);
  const period = { hour: `${label} to ${label.slice(11, 13)}:59`, week: `the week from ${label}` };
  return {
    words: listWords(found.what, undefined, period[state.window.groupBy] || label),
    query: { ...found.query, start: bucket.start, end },
  };
}

/* A heatmap cell's list: the cell's hour on each of its days, which the hourly trend of the chats
 * finds (one request: the trend of the metric that counts every room its list holds, as the heatmap
 * does); the list shows one day at a time. */
function heatmapDrill(weekday, hour) {
  return {
    words: listWords(`Chats started on ${weekday}s, ${hours(hour)}`),
    query: {},
    days: () => heatmapDays(weekday, hour),
  };
}

async function heatmapDays(weekday, hour) {
  const chatsMetric = METRICS.find(
    (metric) => metric.unit === "count" && metric.list && !Object.keys(metric.list.query).length,
  );
  const answer = await get(`trends/${chatsMetric.path}`, { groupBy: "hour" });
  const buckets = answer.series[0]?.buckets ?? [];
  const days = [];
  buckets.forEach((bucket, index) => {
    const day = bucket.start.slice(0, 10);
    const named = WEEKDAYS[(new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7];
    const count = bucket[chatsMetric.field];
    if (named !== weekday || Number(bucket.start.slice(11, 13)) !== hour || !count) return;
    const end = buckets[index + 1] ? justBefore(buckets[index + 1].start) : state.window.end;
    days.push({ label: `${day}, ${hours(hour)}: ${chats(count)}`, start: bucket.start, end });
  });
  return days;
}

/* Open the list ``drill`` describes, from ``opener`` (focused again when the list closes). */
async function openList(opener, drill) {
  const list = { ...drill, opener, offset: 0, asked: 0, base: drill.query };
  state.list = list;
  state.sorts.list = { key: "createdAt", descending: true };
  $("list-title").textContent = drill.words;
  $("list-days-control").hidden = !drill.days;
  $("list-days").replaceChildren();
  drawListRows({ conversations: [], total: 0, offset: 0 }, "");
  if (!$("list").open) $("list").showModal();
  if (!drill.days) return loadList();
  try {
    const days = await drill.days();
    if (state.list !== list) return;
    list.days = days;
    $("list-days").replaceChildren(...days.map((day, index) => newOption(String(index), day.label)));
    chooseDay();
  } catch (error) {
    if (state.list === list) listFailed(error);
  }
}

function chooseDay() {
  const day = state.list.days[Number($("list-days").value)];
  if (!day) return;
  state.list.query = { ...state.list.base, start: day.start, end: day.end };
  state.list.offset = 0;
  loadList();
}

/* Ask for the list's page at its offset, in its order; an answer to an older ask is dropped. */
async function loadList() {
  const list = state.list;
  const asked = ++list.asked;
  drawListHead();
  const { key, descending } = state.sorts.list;
  const sort = JSON.stringify({ [key]: descending ? -1 : 1 });
  const csv = $("list-csv");
  csv.dataset.extra = JSON.stringify({ ...list.query, sort });
  csv.href = url(csv.dataset.csv, csvQuery(csv));
  $("list").dataset.busy = "true";
  try {
    const answer = await get("conversations", { ...list.query, sort, count: LIST_SIZE, offset: list.offset });
    if (state.list !== list || asked !== list.asked) return;
    clearFailure($("list"));
    drawListRows(answer);
  } catch (error) {
    if (state.list === list && asked === list.asked) listFailed(error);
  }
}

/* A refused login closes the list and signs out as any panel does; anything else is said in it. */
function listFailed(error) {
  $("list").dataset.busy = "false";
  if (error.status === 401) {
    $("list").close();
    return refused(error.message);
  }
  const message = $("list").querySelector(".message");
  message.textContent = error.message;
  message.hidden = false;
  $("list").classList.add("failed");
}

function drawListHead() {
  const table = $("list-table");
  const buttons = LIST_COLUMNS.map((column) => sortButton(table, column, "list", listSorted));
  table.tHead.rows[0].replaceChildren(...buttons);
}

function listSorted() {
  state.list.offset = 0;
  loadList();
}

function listText(column, row) {
  const value = row[column.key];
  if (column.key === "createdAt") return wallClock(value);
  if (column.key === "departmentName") {
    return row.departmentId === null ? "No department" : value || departmentName(row.departmentId);
  }
  if (column.text) return value === null || value === undefined ? "\u2013" : String(value);
  return shown(column.unit, value);
}

/* The page of rows, and where it is in the list ("123 chats; rows 1 to 50."). */
function drawListRows(answer, said) {
  const tbody = $("list-table").tBodies[0];
  tbody.replaceChildren();
  for (const row of answer.conversations) {
    const tr = tbody.insertRow();
    tr.dataset.room = row._id;
    cell(tr, row._id, true);
    for (const column of LIST_COLUMNS.slice(1)) cell(tr, listText(column, row)).dataset.field = column.key;
  }
  const last = answer.offset + answer.conversations.length;
  const where = answer.total ? `${chats(answer.total)}; rows ${answer.offset + 1} to ${last}.` : "No chats.";
  $("list-range").textContent = said === undefined ? where : said;
  $("list").dataset.total = said === undefined ? answer.total : "";
  $("list").dataset.busy = String(said !== undefined);
  $("list-previous").disabled = answer.offset === 0;
  $("list-next").disabled = last >= answer.total;
}

/* A page of the list, forward (1) or back (-1); the focus stays on a page button that works. */
function turnPage(step) {
  if (!state.list) return;
  state.list.offset = Math.max(0, state.list.offset + step * LIST_SIZE);
  loadList();
}

/* The heatmap's buttons are one stop of the Tab key: the arrow keys move between them. */
function heatmapKeys(event) {
  const steps = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
  const step = steps[event.key];
  const from = event.target.closest("td");
  if (!step || !from || !event.target.classList.contains("drill")) return;
  const rows = [...$("heatmap").tBodies[0].rows];
  let row = rows.indexOf(from.parentElement) + step[0];
  let column = from.cellIndex + step[1];
  while (rows[row] && column >= 1 && column < rows[row].cells.length) {
    const button = rows[row].cells[column].querySelector("button.drill");
    if (button) {
      event.preventDefault();
      return roveTo(button);
    }
    row += step[0];
    column += step[1];
  }
}

/* ``button`` the heatmap's one button in the Tab order, focused when asked. */
function roveTo(button, focus = true) {
  for (const other of $("heatmap").querySelectorAll("button.drill")) other.tabIndex = -1;
  if (!button) return;
  button.tabIndex = 0;
  if (focus) button.focus();
}

function listen() {
  $("list-close").addEventListener("click", () => $("list").close());
  $("list").addEventListener("close", () => {
    const opener = state.list?.opener;
    state.list = null;
    if (!opener?.isConnected) return;
    if (opener.tabIndex < 0 && !opener.hasAttribute("tabindex")) opener.tabIndex = -1; // a canvas
    opener.focus();
  });
  $("list-days").addEventListener("change", chooseDay);
  $("list-previous").addEventListener("click", () => turnPage(-1));
  $("list-next").addEventListener("click", () => turnPage(1));
  $("heatmap").addEventListener("keydown", heatmapKeys);
}

/* ---- the Now panel: the queue and the agents as they are, pushed by the stream ----
 *
 * live/stream (Server-Sent Events) is read through fetch, with the page's headers, and its frames
 * parsed here: events apart by a blank line, "event:" and "data:" lines, ":" comments. Each
 * "queue" or "agents" event carries the body of live/queue or live/agents. When the stream cannot
 * be had, ends, or says "error", the panel says so in one line, asks live/queue and live/agents
 * every NOW.pollSeconds, and tries the stream again after 2, 4, 8 ... up to 60 seconds. */

const NOW = { pollSeconds: 10, firstRetry: 2, lastRetry: 60 };
// The agents' statuses in the order the panel shows them, and their words.
const AGENT_STATUSES = { online: "Online", away: "Away", busy: "Busy", offline: "Offline" };

const now = {
  run: 0, // one more for each start and stop: what an older run receives is dropped
  stream: null, // the AbortController of the open stream
  streaming: false, // whether the stream has delivered since it opened
  poll: null, // the polling interval, while the stream is paused
  retry: null, // the timer of the stream's next attempt
  backoff: NOW.firstRetry,
  ticker: null, // the one-second timer that keeps the oldest waits counting
  queue: null, // the last live/queue answer, and when it arrived (ms)
  agents: null, // the last live/agents answer's agents
};

/* A live endpoint's URL: the department chosen, nothing else (the state now has no window). */
function liveUrl(path, extra = {}) {
  const query = new URLSearchParams(extra);
  if ($("department").value) query.set("departmentId", $("department").value);
  const text = query.toString();
  return `${API}/live/${path}${text ? `?${text}` : ""}`;
}

/* Start the panel afresh (signing in, another department): the stream first. */
function startNow() {
  stopNow();
  const run = now.run;
  emptyNow();
  now.ticker = setInterval(tickWaits, 1000);
  openStream(run);
}

/* Stop the stream, the polling and the timers: nothing received after this is shown. */
function stopNow() {
  now.run++;
  if (now.stream) now.stream.abort();
  clearInterval(now.poll);
  clearTimeout(now.retry);
  clearInterval(now.ticker);
  Object.assign(now, { stream: null, streaming: false, poll: null, retry: null, ticker: null });
  now.backoff = NOW.firstRetry;
}

async function openStream(run) {
  const controller = new AbortController();
  now.stream = controller;
  now.streaming = false;
  let response;
  try {
    response = await fetch(liveUrl("stream", { names: "true" }), {
      headers: headers("text/event-stream"),
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (error) {
    if (run === now.run) streamPaused(run, `the stream could not be reached (${error.message})`);
    return;
  }
  if (run !== now.run) return controller.abort();
  if (response.status === 401) {
    const said = await errorOf(response);
    // Another panel's refusal may have stopped the panel meanwhile (its body then unread): say it once.
    if (run === now.run) refused(explain(401, said));
    return;
  }
  if (!response.ok) return streamPaused(run, `the stream answered ${response.status}`);
  let reason;
  try {
    reason = await readStream(response.body, run);
  } catch (error) {
    reason = `the stream broke off (${error.message})`;
  }
  if (run === now.run) streamPaused(run, reason);
}

/* A failed answer's error, as the API words it (its status text when it is not JSON). */
async function errorOf(response) {
  try {
    const answer = await response.json();
    return answer.error || answer.message || response.statusText;
  } catch {
    return response.statusText;
  }
}

/* Read the stream's events until it ends: why it ended, in words. */
async function readStream(stream, run) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (run !== now.run) return reader.cancel();
    if (done) return "the stream ended";
    buffer = (buffer + value).replace(/\r\n?/g, "\n");
    const frames = buffer.split("\n\n");
    buffer = frames.pop(); // the frame not yet ended by its blank line
    for (const frame of frames) {
      const reason = streamEvent(sseEvent(frame));
      if (reason) {
        reader.cancel();
        return reason;
      }
    }
  }
}

/* One frame of Server-Sent Events: its event name ("message" by default) and its data lines,
 * joined; comments (":") and other fields are left out. */
function sseEvent(frame) {
  const event = { name: "message", data: [] };
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.name = value;
    else if (field === "data") event.data.push(value);
  }
  return { name: event.name, data: event.data.join("\n") };
}

/* Show one event: nothing to say, or why the stream must be left (its "error"). */
function streamEvent({ name, data }) {
  if (name === "error") {
    let said = "";
    try {
      said = JSON.parse(data).error;
    } catch {
      // not JSON: the event says enough
    }
    return `the stream reported an error${said ? ` (${said})` : ""}`;
  }
  if (name !== "queue" && name !== "agents") return "";
  if (!now.streaming) streamLive();
  if (name === "queue") drawQueue(JSON.parse(data));
  else drawAgents(JSON.parse(data));
  return "";
}

/* The stream delivers: no polling, no note, the next failure retried after the first delay. */
function streamLive() {
  now.streaming = true;
  clearInterval(now.poll);
  now.poll = null;
  now.backoff = NOW.firstRetry;
  nowNote("");
}

/* The stream failed for ``reason``: say so, poll meanwhile, and try it again later. */
function streamPaused(run, reason) {
  now.stream = null;
  now.streaming = false;
  nowNote(`Live updates paused: ${reason}; polling every ${NOW.pollSeconds} s.`);
  if (now.poll === null) {
    pollNow(run);
    now.poll = setInterval(() => pollNow(run), NOW.pollSeconds * 1000);
  }
  const delay = now.backoff;
  now.backoff = Math.min(now.backoff * 2, NOW.lastRetry);
  now.retry = setTimeout(() => run === now.run && openStream(run), delay * 1000);
}

/* Ask live/queue and live/agents once, and show their answers. */
async function pollNow(run) {
  try {
    const [queue, agents] = await Promise.all([
      liveGet(liveUrl("queue", { names: "true" })),
      liveGet(liveUrl("agents")),
    ]);
    if (run !== now.run || now.streaming) return;
    drawQueue(queue);
    drawAgents(agents);
  } catch (error) {
    if (run !== now.run) return;
    if (error.status === 401) return refused(error.message);
    nowNote(`Live numbers unavailable: ${error.message} Asking again every ${NOW.pollSeconds} s.`);
  }
}

async function liveGet(address) {
  let response;
  try {
    response = await fetch(address, {
      headers: headers("application/json"),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, `The API could not be reached (${error.message}).`);
  }
  if (response.ok) return response.json();
  throw new ApiError(response.status, explain(response.status, await errorOf(response)));
}

function nowNote(text) {
  if ($("now-note").textContent !== text) $("now-note").textContent = text;
}

/* The panel before its first answer: its tables empty, its lines blank. */
function emptyNow() {
  now.queue = null;
  now.agents = null;
  $("now-queue").tBodies[0].replaceChildren();
  $("now-queue").tFoot.replaceChildren();
  $("now-agents").tBodies[0].replaceChildren();
  for (const id of ["now-at", "now-summary", "now-note"]) $(id).textContent = "";
  $("now").dataset.queue = "";
  $("now").dataset.agents = "";
}

/* A duration in words, to the second under an hour: "45 s", "1 min 40 s", "2 h 5 min", "3 d 4 h". */
function waited(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const units = [
    [86400, "d"],
    [3600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  const first = units.findIndex(([size]) => whole >= size);
  if (first < 0) return "0 s";
  const [size, unit] = units[first];
  const next = units[first + 1];
  const rest = next ? Math.floor((whole % size) / next[0]) : 0;
  return rest
    ? `${Math.floor(whole / size)} ${unit} ${rest} ${next[1]}`
    : `${Math.floor(whole / size)} ${unit}`;
}

/* The queue per department, the totals below, and the line the screen reader is told. */
function drawQueue(answer) {
  now.queue = { answer, received: Date.now() };
  for (const row of answer.departments) {
    if (row.name) state.departments[row._id === null ? "" : row._id] = row.name;
  }
  queueRows(answer);
  $("now-at").textContent = `As of ${clockTime(answer.at)}`;
  $("now").dataset.queue = answer.at;
  nowSummary();
}

/* The queue's table drawn from an answer, labelled as everywhere on the page: two departments of one
 * name as "Name (id)". */
function queueRows(answer) {
  const rows = answer.departments.map((row) => queueRow(row, departmentName(row._id)));
  $("now-queue").tBodies[0].replaceChildren(...rows);
  $("now-queue").tFoot.replaceChildren(queueRow(answer.total, "Total"));
  tickWaits();
}

/* The queue labelled again once other panels have told the page more departments' names. */
function relabelNow() {
  if (now.queue) queueRows(now.queue.answer);
}

function queueRow(row, label) {
  const tr = document.createElement("tr");
  cell(tr, label, true);
  for (const key of ["queued", "oldestWaitSeconds", "open", "onHold"]) {
    const td = cell(tr, key === "oldestWaitSeconds" ? "" : String(row[key]));
    td.dataset.field = key;
    td.dataset.value = String(row[key]);
  }
  return tr;
}

/* The oldest waits, counted on from the answer's while no newer one comes: a dash where none waits. */
function tickWaits() {
  if (!now.queue) return;
  const since = Math.floor((Date.now() - now.queue.received) / 1000);
  for (const td of $("now-queue").querySelectorAll('td[data-field="oldestWaitSeconds"]')) {
    const queued = td.parentElement.querySelector('td[data-field="queued"]').dataset.value;
    td.textContent = queued === "0" ? "\u2013" : waited(Number(td.dataset.value) + since);
  }
}

/* The agents, online first, each with their chats out of their maximum and their occupancy. */
function drawAgents(answer) {
  const order = Object.keys(AGENT_STATUSES);
  const agents = [...answer.agents].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
  $("now-agents").tBodies[0].replaceChildren(...agents.map(agentRow));
  $("now").dataset.agents = JSON.stringify(answer.agents.map((agent) => agent._id));
  now.agents = answer.agents;
  nowSummary();
}

function agentRow(agent) {
  const tr = document.createElement("tr");
  tr.dataset.agent = agent._id;
  cell(tr, agent.name || agent.username, true);
  const texts = {
    status: AGENT_STATUSES[agent.status] || agent.status,
    statusLivechat: agent.statusLivechat === "available" ? "Available" : "Not available",
    chats: `${agent.openChats} / ${agent.maxChats ?? "\u2013"}`,
    onHoldChats: String(agent.onHoldChats),
    occupancy: agent.occupancy === null ? "\u2013" : `${Math.round(agent.occupancy * 100)} %`,
  };
  for (const [field, text] of Object.entries(texts)) cell(tr, text).dataset.field = field;
  return tr;
}

/* One line of what changed, which a screen reader reads out (the table's cells are not). */
function nowSummary() {
  const parts = [];
  if (now.queue) {
    const total = now.queue.answer.total;
    parts.push(`${chats(total.queued)} waiting, ${total.open} open, ${total.onHold} on hold.`);
  }
  if (now.agents) {
    const counts = Object.keys(AGENT_STATUSES)
      .map((status) => [now.agents.filter((agent) => agent.status === status).length, status])
      .filter(([count]) => count)
      .map(([count, status]) => `${count} ${status}`);
    const available = now.agents.filter((agent) => agent.statusLivechat === "available").length;
    parts.push(`Agents: ${counts.join(", ") || "none"}; ${available} available.`);
  }
  $("now-summary").textContent = parts.join(" ");
}

/* A moment on the chosen timezone's clock (the browser's while none is chosen), to the second. */
function clockTime(iso) {
  const timezone = $("timezone").value.trim();
  const format = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  if (knownTimezone(timezone)) format.timeZone = timezone;
  return new Intl.DateTimeFormat("en-GB", format).format(new Date(iso));
}

/* ---- CSV downloads: the API's own CSV, fetched with the headers, saved as a file ---- */

function csvLinks() {
  const list = $("department-csv");
  if (!list.children.length) {
    METRICS.forEach((metric, index) => {
      const link = document.createElement("a");
      link.className = "csv";
      link.dataset.csv = `departments/${metric.path}`;
      link.href = "#";
      link.textContent = metric.title;
      link.setAttribute("aria-label", `Download CSV: ${metric.title} per department`);
      list.append(link, index < METRICS.length - 1 ? ", " : "");
    });
  }
  const trend = $("trend-csv");
  trend.dataset.csv = `trends/${trendMetric().path}`;
  trend.dataset.extra = JSON.stringify(trendQuery());
  slaLinks();
  satisfactionLinks();
  for (const link of document.querySelectorAll("a.csv")) link.href = url(link.dataset.csv, csvQuery(link));
}

/* The service-level links ask as the panel does; with a target the API would refuse, they say why
 * instead of asking. */
function slaLinks() {
  let query = {};
  let refused = "";
  try {
    query = slaQuery();
  } catch (error) {
    refused = error.message;
  }
  for (const link of document.querySelectorAll('a.csv[data-csv^="sla/"]')) {
    const own = link.dataset.csv === "sla/compliance" ? { groupBy: "department", names: "true" } : {};
    link.dataset.extra = JSON.stringify({ ...query, ...own });
    if (refused) link.dataset.refused = refused;
    else delete link.dataset.refused;
  }
}

function csvQuery(link) {
  return { format: "csv", ...JSON.parse(link.dataset.extra || "{}") };
}

document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.csv");
  if (!link) return;
  event.preventDefault();
  if (!state.credentials || !state.window) return;
  if (link.dataset.refused) return say(link.dataset.refused);
  try {
    const response = await get(link.dataset.csv, csvQuery(link), "text/csv");
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const named = /filename="?([^";]+)"?/.exec(disposition);
    const save = document.createElement("a");
    save.href = URL.createObjectURL(blob);
    save.download = named ? named[1] : `${link.dataset.csv.replace(/\//g, "_")}.csv`;
    document.body.appendChild(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(save.href), 10000);
    link.dataset.downloaded = save.download;
  } catch (error) {
    const failure = new ApiError(error.status, `The CSV download failed. ${error.message}`);
    const panel = link.closest(".panel");
    if (panel.id === "list") listFailed(failure);
    else fail(panel, failure);
  }
});

/* ---- putting it together ---- */

function describeWindow() {
  const { start, end, timezone, department } = state.window;
  const departments = department ? `, ${departmentName(department)}` : ", all departments";
  $("window").textContent = `Showing ${start} to ${end}, days in ${timezone}${departments}.`;
}

async function refresh() {
  if (!state.credentials) return;
  const generation = ++state.generation;
  body.dataset.busy = "true";
  state.refused = false;
  alertText("");
  try {
    state.window = currentWindow();
  } catch (error) {
    // A control the page cannot ask with: nothing shown stands for what the controls say now.
    state.window = null;
    blank();
    say(error.message);
    body.dataset.busy = "false";
    body.dataset.loaded = String(generation);
    return;
  }
  describeWindow();
  if (!$("start").value) $("start").value = state.window.start;
  if (!$("end").value) $("end").value = state.window.end;
  csvLinks();
  await Promise.all(panels().map(loadPanel));
  if (generation !== state.generation) return;
  // With the departments' names, which the rows have told meanwhile; nothing when the API refused
  // the window (a target it would refuse leaves the window standing).
  if (!state.refused) describeWindow();
  else $("window").textContent = "";
  body.dataset.busy = "false";
  body.dataset.loaded = String(generation);
}

function newOption(value, text) {
  const made = document.createElement("option");
  made.value = value;
  if (text !== undefined) made.textContent = text;
  return made;
}

function start() {
  $("timezone").value = browserTimezone();
  if (Intl.supportedValuesOf) {
    $("timezones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((name) => newOption(name)));
  }
  $("trend-metric").replaceChildren(...METRICS.map((metric) => newOption(metric.path, metric.title)));
  blank(); // the panels in their filled shape before the dashboard shows
  $("range").addEventListener("change", () => {
    $("custom-range").hidden = $("range").value !== "custom";
    if ($("range").value === "custom" && state.window) {
      $("start").value = state.window.start;
      $("end").value = state.window.end;
    }
    refresh();
  });
  for (const id of [
    "start",
    "end",
    "department",
    "timezone",
    "group-by",
    "trend-metric",
    "sla-target",
    "sla-hours",
  ]) {
    $(id).addEventListener("change", refresh);
  }
  $("department").addEventListener("change", () => state.credentials && startNow());
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  window.addEventListener("resize", centreBusiest);
  listen();
  window.addEventListener("hashchange", () => {
    // A signed-in URL pasted into a tab that has the page open already.
    if (!/token=/.test(location.hash)) return;
    const fresh = readCredentials();
    if (fresh) {
      alertText("");
      signedIn(fresh);
    }
  });
  const credentials = readCredentials();
  if (credentials) signedIn(credentials);
  else showSignIn("");
}

start();
