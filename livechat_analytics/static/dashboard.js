/* The dashboard page: a thin client of the analytics API. It sends only the API's own GET
 * requests, with the X-User-Id and X-Auth-Token headers any client sends, and no cookies. */
(function () {
  "use strict";

  var body = document.body;
  var API = body.dataset.apiRoot;
  var PAGE_SIZE = body.dataset.pageSize;
  var KEYS = {
    user: "livechat-analytics.userId",
    token: "livechat-analytics.token",
    noMeteor: "livechat-analytics.ignoreStoredLogin",
  };
  // The eight department metrics: path, the row field shown, and how to show it.
  var METRICS = [
    { path: "amount-of-chats", title: "Chats", field: "rooms" },
    { path: "total-transferred-chats", title: "Transferred chats", field: "numberOfTransferredRooms" },
    { path: "average-service-time", title: "Average service time", field: "averageServiceTimeInSeconds", time: true },
    { path: "total-service-time", title: "Total service time", field: "serviceTimeDuration", time: true,
      also: { field: "chats", title: "Chats served" } },
    { path: "average-chat-duration-time", title: "Average chat duration", field: "averageChatDurationTimeInSeconds", time: true },
    { path: "average-waiting-time", title: "Average waiting time", field: "averageWaitingTimeInSeconds", time: true },
    { path: "total-abandoned-chats", title: "Abandoned chats", field: "abandonedRooms" },
    { path: "percentage-abandoned-chats", title: "Abandoned chats (%)", field: "percentageOfAbandonedChats", percent: true },
  ];
  var STATUSES = [["open", "Open"], ["closed", "Closed"], ["queued", "Queued"], ["onhold", "On hold"]];
  var COLOURS = ["#1d74f5", "#f5455c", "#2de0a5", "#ffd21f", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d"];

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    credentials: null,
    timezoneTaken: true, // false once the API said it takes no timezone parameter
    generation: 0,
    departments: {}, // id -> name, as the rows tell
    rows: [],
    sort: { key: "rooms", descending: true },
    charts: {},
    window: null,
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /* ---- signing in ---- */

  function storage(kind) {
    try {
      return window[kind];
    } catch (error) { // storage switched off
      return null;
    }
  }

  function readCredentials() {
    var session = storage("sessionStorage");
    var fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get("userId") && fragment.get("token") && session) {
      // From the demo's printed URL: into this tab's storage, and out of the address bar.
      session.setItem(KEYS.user, fragment.get("userId"));
      session.setItem(KEYS.token, fragment.get("token"));
      session.removeItem(KEYS.noMeteor);
      history.replaceState(null, "", location.pathname + location.search);
    }
    if (session && session.getItem(KEYS.user) && session.getItem(KEYS.token)) {
      return { user: session.getItem(KEYS.user), token: session.getItem(KEYS.token), source: "this tab" };
    }
    var local = storage("localStorage");
    if (local && !(session && session.getItem(KEYS.noMeteor))) {
      var user = local.getItem("Meteor.userId");
      var token = local.getItem("Meteor.loginToken");
      if (user && token) return { user: user, token: token, source: "the livechat web client's login" };
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
    $("sign-in").hidden = true;
    $("main").hidden = false;
    $("who").hidden = false;
    $("who-text").textContent = "Signed in as " + credentials.user + " (from " + credentials.source + ")";
    refresh();
  }

  $("sign-in").addEventListener("submit", function (event) {
    event.preventDefault();
    var user = $("user-id").value.trim();
    var token = $("token").value.trim();
    if (!user || !token) return;
    var session = storage("sessionStorage");
    if (session) {
      session.setItem(KEYS.user, user);
      session.setItem(KEYS.token, token);
    }
    $("token").value = "";
    alertText("");
    signedIn({ user: user, token: token, source: "this tab" });
  });

  $("sign-out").addEventListener("click", function () {
    var session = storage("sessionStorage");
    if (session) {
      session.removeItem(KEYS.user);
      session.removeItem(KEYS.token);
      session.setItem(KEYS.noMeteor, "1");
    }
    state.credentials = null;
    state.generation++;
    $("main").hidden = true;
    showSignIn("Signed out of this page.");
  });

  function alertText(text) {
    $("alert").textContent = text;
    $("alert").hidden = !text;
  }

  /* ---- the window and the query ---- */

  function browserTimezone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }

  function knownTimezone(name) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: name });
      return true;
    } catch (error) {
      return false;
    }
  }

  function todayIn(timezone) {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }

  function addDays(date, days) {
    var moment = new Date(date + "T00:00:00Z");
    moment.setUTCDate(moment.getUTCDate() + days);
    return moment.toISOString().slice(0, 10);
  }

  function currentWindow() {
    var timezone = $("timezone").value.trim() || browserTimezone();
    if (!knownTimezone(timezone)) throw new ApiError(0, "Unknown timezone \u201c" + timezone + "\u201d: choose one from the list, such as Europe/Berlin.");
    var today = todayIn(timezone);
    var range = $("range").value;
    var start = today;
    var end = today;
    if (range === "last7") start = addDays(today, -6);
    else if (range === "last30") start = addDays(today, -29);
    else if (range === "month") start = today.slice(0, 8) + "01";
    else if (range === "custom") {
      start = $("start").value;
      end = $("end").value;
      if (!start || !end) throw new ApiError(0, "Choose the first and the last day of the range.");
      if (start > end) throw new ApiError(0, "The range's first day is after its last day.");
    }
    return { start: start, end: end, timezone: timezone, department: $("department").value, groupBy: $("group-by").value };
  }

  function params(extra) {
    var window_ = state.window;
    var query = new URLSearchParams({ start: window_.start, end: window_.end });
    if (window_.department) query.set("departmentId", window_.department);
    if (state.timezoneTaken) query.set("timezone", window_.timezone);
    Object.keys(extra || {}).forEach(function (key) { query.set(key, extra[key]); });
    return query;
  }

  function url(path, extra) {
    return API + "/" + path + "?" + params(extra).toString();
  }

  function headers(accept) {
    return { "X-User-Id": state.credentials.user, "X-Auth-Token": state.credentials.token, Accept: accept };
  }

  /* GET an endpoint: its JSON body, or an ApiError with a readable message. */
  async function get(path, extra, accept) {
    var response;
    var withTimezone = state.timezoneTaken;
    try {
      response = await fetch(url(path, extra), { headers: headers(accept || "application/json"), credentials: "omit", cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, "The API could not be reached (" + error.message + ").");
    }
    if (response.ok) return accept === "text/csv" ? response : response.json();
    var answer = {};
    try {
      answer = await response.json();
    } catch (error) { /* not JSON: the status says enough */ }
    if (response.status === 400 && withTimezone && answer.details && answer.details.timezone &&
        /not allowed/i.test(String(answer.details.timezone))) {
      // A server without the timezone parameter reads dates in its own reporting timezone.
      state.timezoneTaken = false;
      $("timezone-note").hidden = false;
      return get(path, extra, accept);
    }
    throw new ApiError(response.status, explain(response.status, answer.error || answer.message || response.statusText, path));
  }

  function explain(status, error, path) {
    if (status === 401) return "Not signed in: the API refused the user id and token (401: " + error + "). Sign in again below.";
    if (status === 403) return "This user may not see these numbers (403: " + error + ").";
    if (status === 404 && path.indexOf("trends/") === 0) return "This server does not serve trends (" + path + " answered 404).";
    return "The API answered " + status + ": " + error;
  }

  /* Show an error in a panel (and, for a refused login, at the top with the sign-in form). */
  function fail(panel, error) {
    var message = panel.querySelector(".message");
    message.textContent = error.message;
    message.hidden = false;
    panel.classList.add("failed");
    if (error.status === 401) showSignIn(error.message);
    else if (error.status === 403) alertText(error.message);
  }

  function clearFailure(panel) {
    var message = panel.querySelector(".message");
    message.hidden = true;
    message.textContent = "";
    panel.classList.remove("failed");
  }

  /* ---- formatting ---- */

  function twoDigits(number) { return String(number).padStart(2, "0"); }

  function duration(seconds) {
    seconds = Math.round(seconds);
    return twoDigits(Math.floor(seconds / 3600)) + ":" + twoDigits(Math.floor(seconds % 3600 / 60)) + ":" + twoDigits(seconds % 60);
  }

  function shown(metric, value) {
    if (value === null || value === undefined) return "\u2013";
    if (metric.time) return duration(value);
    if (metric.percent) return value + " %";
    return String(value);
  }

  function words(title) { return String(title).replace(/_/g, " "); }

  function departmentName(id) {
    if (id === null || id === "") return "No department";
    var name = state.departments[id];
    if (!name) return id;
    var twins = Object.keys(state.departments).filter(function (other) { return state.departments[other] === name; });
    return twins.length > 1 ? name + " (" + id + ")" : name; // as the API labels two of one name
  }

  function bucketLabel(start, groupBy) {
    if (groupBy === "hour") return start.slice(0, 10) + " " + start.slice(11, 16);
    if (groupBy === "month") return start.slice(0, 7);
    return start.slice(0, 10);
  }

  function cell(row, text, header) {
    var element = document.createElement(header ? "th" : "td");
    if (header) element.scope = "row";
    element.textContent = text;
    row.appendChild(element);
    return element;
  }

  /* ---- charts ---- */

  function chart(id, canvas, config) {
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    if (state.charts[id]) state.charts[id].destroy();
    state.charts[id] = new window.Chart(canvas, config);
    return state.charts[id];
  }

  function describe(canvas, title, labels, values) {
    canvas.setAttribute("aria-label", title + ": " + labels.map(function (label, index) {
      return label + " " + values[index];
    }).join(", ") + ".");
  }

  /* ---- the panels ---- */

  async function loadCards(generation, id) {
    var holder = $(id);
    var panel = holder.closest(".panel");
    try {
      var answer = await get(holder.dataset.endpoint);
      if (generation !== state.generation) return;
      clearFailure(panel);
      holder.replaceChildren.apply(holder, answer.totalizers.map(function (totalizer) {
        var card = document.createElement("div");
        card.className = "card";
        var title = document.createElement("span");
        title.className = "card-title";
        title.textContent = words(totalizer.title);
        var value = document.createElement("span");
        value.className = "card-value";
        value.dataset.title = totalizer.title;
        value.textContent = totalizer.value;
        card.append(title, value);
        return card;
      }));
    } catch (error) {
      if (generation !== state.generation) return;
      holder.replaceChildren();
      fail(panel, error);
    }
  }

  async function loadStatus(generation) {
    var panel = $("status-title").closest(".panel");
    try {
      var answer = await get("dashboards/charts/chats");
      if (generation !== state.generation) return;
      clearFailure(panel);
      var labels = STATUSES.map(function (status) { return status[1]; });
      var values = STATUSES.map(function (status) { return answer[status[0]]; });
      var tbody = $("status-table").tBodies[0];
      tbody.replaceChildren();
      STATUSES.forEach(function (status, index) {
        var row = tbody.insertRow();
        cell(row, labels[index], true);
        cell(row, String(values[index])).dataset.status = status[0];
      });
      var canvas = $("status-chart");
      describe(canvas, "Chats by status", labels, values);
      chart("status", canvas, {
        type: "bar",
        data: { labels: labels, datasets: [{ label: "Chats", data: values, backgroundColor: COLOURS.slice(0, 4) }] },
        options: { plugins: { legend: { display: false } } },
      });
    } catch (error) {
      if (generation !== state.generation) return;
      $("status-table").tBodies[0].replaceChildren();
      fail(panel, error);
    }
  }

  function columns() {
    var list = [{ key: "name", title: "Department" }];
    METRICS.forEach(function (metric) {
      list.push({ key: metric.field, title: metric.title, metric: metric });
      if (metric.also) list.push({ key: metric.also.field, title: metric.also.title, metric: { path: metric.path } });
    });
    return list;
  }

  async function loadDepartments(generation) {
    var panel = $("departments-title").closest(".panel");
    var extra = { count: PAGE_SIZE };
    try {
      var answers = await Promise.all(METRICS.map(function (metric) { return get("departments/" + metric.path, extra); }));
      if (generation !== state.generation) return;
      clearFailure(panel);
      var byId = {};
      answers.forEach(function (answer) {
        answer.departments.forEach(function (row) {
          var key = row._id === null ? "" : row._id;
          if (row.name) state.departments[key] = row.name;
          byId[key] = Object.assign(byId[key] || { _id: key }, row, { _id: key });
        });
      });
      state.rows = Object.values(byId);
      state.rows.forEach(function (row) { row.name = departmentName(row._id); });
      if (!state.window.department) updateDepartmentChoices(state.rows);
      drawDepartmentTable();
      drawDepartmentCharts();
    } catch (error) {
      if (generation !== state.generation) return;
      state.rows = [];
      $("department-table").tBodies[0].replaceChildren();
      $("department-charts").replaceChildren();
      fail(panel, error);
    }
  }

  function updateDepartmentChoices(rows) {
    var select = $("department");
    var chosen = select.value;
    var known = {};
    Array.from(select.options).forEach(function (option) { if (option.value) known[option.value] = option; });
    rows.forEach(function (row) {
      if (!row._id) return; // rooms without a department cannot be chosen by id
      var option = known[row._id] || document.createElement("option");
      option.value = row._id;
      option.textContent = departmentName(row._id);
      known[row._id] = option;
    });
    var sorted = Object.values(known).sort(function (a, b) { return a.textContent.localeCompare(b.textContent); });
    select.replaceChildren(select.options[0], ...sorted);
    select.value = chosen;
  }

  function drawDepartmentTable() {
    var table = $("department-table");
    var head = table.tHead.rows[0];
    head.replaceChildren();
    columns().forEach(function (column) {
      var th = document.createElement("th");
      th.scope = "col";
      var sorted = state.sort.key === column.key;
      th.setAttribute("aria-sort", sorted ? (state.sort.descending ? "descending" : "ascending") : "none");
      var button = document.createElement("button");
      button.type = "button";
      button.dataset.sort = column.key;
      button.textContent = column.title + (sorted ? (state.sort.descending ? " \u25bc" : " \u25b2") : "");
      button.addEventListener("click", function () {
        state.sort = { key: column.key, descending: state.sort.key === column.key ? !state.sort.descending : column.key !== "name" };
        drawDepartmentTable();
        table.querySelector('button[data-sort="' + column.key + '"]').focus();
      });
      th.appendChild(button);
      head.appendChild(th);
    });
    var key = state.sort.key;
    var sign = state.sort.descending ? -1 : 1;
    var rows = state.rows.slice().sort(function (a, b) {
      var x = a[key], y = b[key];
      if (x === y) return a.name.localeCompare(b.name);
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (typeof x === "string" ? x.localeCompare(y) : x - y) * sign;
    });
    var tbody = table.tBodies[0];
    tbody.replaceChildren();
    rows.forEach(function (row) {
      var tr = tbody.insertRow();
      tr.dataset.department = row._id;
      columns().forEach(function (column, index) {
        var td = cell(tr, index === 0 ? row.name : shown(column.metric, row[column.key]), index === 0);
        if (index > 0) {
          td.dataset.field = column.key;
          td.dataset.value = row[column.key] === undefined ? "" : row[column.key];
        }
      });
    });
  }

  function drawDepartmentCharts() {
    var grid = $("department-charts");
    var rows = state.rows.slice().sort(function (a, b) { return a.name.localeCompare(b.name); });
    var labels = rows.map(function (row) { return row.name; });
    METRICS.forEach(function (metric, index) {
      var id = "department-chart-" + metric.path;
      var figure = $(id + "-figure");
      if (!figure) {
        figure = document.createElement("figure");
        figure.id = id + "-figure";
        figure.className = "chart-figure";
        var caption = document.createElement("figcaption");
        caption.textContent = metric.title + (metric.time ? " (seconds)" : "");
        var box = document.createElement("div");
        box.className = "chart small";
        var canvas = document.createElement("canvas");
        canvas.id = id;
        canvas.setAttribute("role", "img");
        box.appendChild(canvas);
        figure.append(caption, box);
        grid.appendChild(figure);
      }
      var values = rows.map(function (row) { return row[metric.field] === undefined ? 0 : row[metric.field]; });
      var target = $(id);
      describe(target, metric.title + " per department", labels, values.map(function (value) { return shown(metric, value); }));
      target.dataset.values = JSON.stringify(values);
      chart(id, target, {
        type: "bar",
        data: { labels: labels, datasets: [{ label: metric.title, data: values, backgroundColor: COLOURS[index] }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } } },
      });
    });
  }

  async function loadTrend(generation) {
    var panel = $("trend-title").closest(".panel");
    var metric = METRICS.find(function (each) { return each.path === $("trend-metric").value; }) || METRICS[0];
    var groupBy = state.window.groupBy;
    var link = $("trend-csv");
    link.dataset.csv = "trends/" + metric.path;
    link.dataset.extra = JSON.stringify({ groupBy: groupBy, compare: "previous" });
    try {
      var answer = await get("trends/" + metric.path, { groupBy: groupBy, compare: "previous" });
      if (generation !== state.generation) return;
      clearFailure(panel);
      var current = (answer.series[0] || { buckets: [] }).buckets;
      var previous = ((answer.previous || [])[0] || { buckets: [] }).buckets;
      var labels = current.map(function (bucket) { return bucketLabel(bucket.start, groupBy); });
      var values = current.map(function (bucket) { return bucket[metric.field]; });
      var before = previous.map(function (bucket) { return bucket[metric.field]; });
      var tbody = $("trend-table").tBodies[0];
      tbody.replaceChildren();
      current.forEach(function (bucket, index) {
        var row = tbody.insertRow();
        cell(row, labels[index], true);
        cell(row, shown(metric, values[index]));
        cell(row, previous[index] ? bucketLabel(previous[index].start, groupBy) : "\u2013");
        cell(row, previous[index] ? shown(metric, before[index]) : "\u2013");
      });
      var canvas = $("trend-chart");
      canvas.dataset.values = JSON.stringify(values);
      canvas.dataset.previous = JSON.stringify(before);
      canvas.setAttribute("aria-label", metric.title + " by " + groupBy + ", this period against the previous one; the numbers are in the table below.");
      chart("trend", canvas, {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: metric.title + ", this period", data: values, borderColor: COLOURS[0], backgroundColor: COLOURS[0] },
            { label: "Previous period", data: before, borderColor: "#9ea2a8", backgroundColor: "#9ea2a8", borderDash: [6, 4] },
          ],
        },
        options: { interaction: { mode: "index", intersect: false } },
      });
    } catch (error) {
      if (generation !== state.generation) return;
      if (state.charts.trend) { state.charts.trend.destroy(); delete state.charts.trend; }
      $("trend-table").tBodies[0].replaceChildren();
      fail(panel, error);
    }
  }

  async function loadHeatmap(generation) {
    var panel = $("heatmap-title").closest(".panel");
    var table = $("heatmap");
    try {
      var answer = await get("trends/heatmap");
      if (generation !== state.generation) return;
      clearFailure(panel);
      var most = Math.max.apply(null, [1].concat(...answer.weekdays.map(function (day) { return day.hours; })));
      var head = document.createElement("tr");
      cell(head, "Weekday", true).scope = "col";
      for (var hour = 0; hour < 24; hour++) {
        var th = document.createElement("th");
        th.scope = "col";
        th.textContent = twoDigits(hour);
        th.title = twoDigits(hour) + ":00\u2013" + twoDigits(hour) + ":59";
        head.appendChild(th);
      }
      table.tHead.replaceChildren(head);
      var tbody = table.tBodies[0];
      tbody.replaceChildren();
      answer.weekdays.forEach(function (day) {
        var row = tbody.insertRow();
        cell(row, day.weekday, true);
        day.hours.forEach(function (count, hour) {
          var td = cell(row, String(count));
          var strength = count / most;
          td.style.backgroundColor = "rgba(29, 116, 245, " + (0.06 + 0.94 * strength).toFixed(3) + ")";
          td.style.color = strength > 0.55 ? "#fff" : "#1f2329";
          td.title = day.weekday + " " + twoDigits(hour) + ":00: " + count + " chats";
        });
      });
      $("busiest").textContent = answer.busiest && answer.busiest.weekday
        ? "Busiest: " + answer.busiest.weekday + ", " + twoDigits(answer.busiest.hour) + ":00\u2013" + twoDigits(answer.busiest.hour) + ":59 (" + answer.timezone + ")."
        : "No chats started in this range.";
    } catch (error) {
      if (generation !== state.generation) return;
      table.tHead.replaceChildren();
      table.tBodies[0].replaceChildren();
      $("busiest").textContent = "";
      fail(panel, error);
    }
  }

  /* ---- CSV downloads: the API's own CSV, fetched with the headers, saved as a file ---- */

  function csvLinks() {
    var list = $("department-csv");
    if (!list.children.length) {
      METRICS.forEach(function (metric, index) {
        var link = document.createElement("a");
        link.className = "csv";
        link.dataset.csv = "departments/" + metric.path;
        link.href = "#";
        link.textContent = metric.title;
        link.setAttribute("aria-label", "Download CSV: " + metric.title + " per department");
        list.append(link, index < METRICS.length - 1 ? ", " : "");
      });
    }
    document.querySelectorAll("a.csv").forEach(function (link) {
      link.href = url(link.dataset.csv, Object.assign({ format: "csv" }, JSON.parse(link.dataset.extra || "{}")));
    });
  }

  document.addEventListener("click", async function (event) {
    var link = event.target.closest("a.csv");
    if (!link) return;
    event.preventDefault();
    if (!state.credentials || !state.window) return;
    var panel = link.closest(".panel");
    var extra = Object.assign({ format: "csv" }, JSON.parse(link.dataset.extra || "{}"));
    try {
      var response = await get(link.dataset.csv, extra, "text/csv");
      var blob = await response.blob();
      var disposition = response.headers.get("Content-Disposition") || "";
      var named = /filename="?([^";]+)"?/.exec(disposition);
      var save = document.createElement("a");
      save.href = URL.createObjectURL(blob);
      save.download = named ? named[1] : link.dataset.csv.replace(/\//g, "_") + ".csv";
      document.body.appendChild(save);
      save.click();
      save.remove();
      setTimeout(function () { URL.revokeObjectURL(save.href); }, 10000);
      link.dataset.downloaded = save.download;
    } catch (error) {
      fail(panel, new ApiError(error.status, "The CSV download failed. " + error.message));
    }
  });

  /* ---- putting it together ---- */

  function describeWindow() {
    var window_ = state.window;
    $("window").textContent = "Showing " + window_.start + " to " + window_.end +
      (state.timezoneTaken ? ", days in " + window_.timezone : ", days in the server's reporting timezone") +
      (window_.department ? ", " + departmentName(window_.department) : ", all departments") + ".";
  }

  async function refresh() {
    if (!state.credentials) return;
    var generation = ++state.generation;
    body.dataset.busy = "true";
    try {
      state.window = currentWindow();
    } catch (error) {
      $("window").textContent = error.message;
      body.dataset.busy = "false";
      return;
    }
    var window_ = state.window;
    describeWindow();
    if (!$("start").value) $("start").value = window_.start;
    if (!$("end").value) $("end").value = window_.end;
    alertText("");
    csvLinks();
    await Promise.all([
      loadCards(generation, "conversation-cards"),
      loadCards(generation, "productivity-cards"),
      loadStatus(generation),
      loadDepartments(generation),
      loadTrend(generation),
      loadHeatmap(generation),
    ]);
    if (generation !== state.generation) return;
    csvLinks(); // the timezone parameter may have been dropped meanwhile
    describeWindow();
    body.dataset.busy = "false";
    body.dataset.loaded = String(generation);
  }

  function start() {
    $("timezone").value = browserTimezone();
    if (Intl.supportedValuesOf) {
      $("timezones").replaceChildren(...Intl.supportedValuesOf("timeZone").map(function (name) {
        var option = document.createElement("option");
        option.value = name;
        return option;
      }));
    }
    var note = document.createElement("p");
    note.id = "timezone-note";
    note.className = "note";
    note.hidden = true;
    note.textContent = "This server takes no timezone parameter: it reads the days in its reporting timezone.";
    $("controls").appendChild(note);
    $("trend-metric").replaceChildren(...METRICS.map(function (metric) {
      var option = document.createElement("option");
      option.value = metric.path;
      option.textContent = metric.title;
      return option;
    }));
    $("range").addEventListener("change", function () {
      $("custom-range").hidden = $("range").value !== "custom";
      if ($("range").value === "custom" && state.window) {
        $("start").value = state.window.start;
        $("end").value = state.window.end;
      }
      refresh();
    });
    ["start", "end", "department", "timezone", "group-by", "trend-metric"].forEach(function (id) {
      $(id).addEventListener("change", refresh);
    });
    $("controls").addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
    window.addEventListener("hashchange", function () {
      // A signed-in URL pasted into a tab that has the page open already.
      if (!/token=/.test(location.hash)) return;
      var fresh = readCredentials();
      if (fresh) { alertText(""); signedIn(fresh); }
    });
    var credentials = readCredentials();
    if (credentials) signedIn(credentials);
    else showSignIn("");
  }

  start();
})();
