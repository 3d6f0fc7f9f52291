// patentsim's page: a view over the JSON API (/api/...), which answers in the words of the
// `search` commands.  No query logic here: the page keeps its state in the URL, asks the
// API, and draws the answers.  Every value from a document is put in as text
// (textContent / text nodes), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const MULTI = ["where"];
const KEYS = ["q", "like", "key", "mode", "where", "prior_art", "group_by", "collapse", "min_score",
  "limit", "offset", "doc", "why", "map", "color"];
const MAX_SELECTED = 500; // points a box selection may turn into a filter
const RETRY_MS = 2000; // while another process holds the collection

let info = null;
let state = {};
let lastHits = null;
let loads = 0;

// -- elements -----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function cell(value, type) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => cell(v, type)).join(" | ");
  if (typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  if (type === "datetime" && text.endsWith("T00:00:00Z")) return text.slice(0, 10);
  return text;
}

// -- state in the URL -----------------------------------------------------------------------

function readState() {
  const params = new URLSearchParams(location.search);
  const out = {};
  for (const name of KEYS) {
    if (MULTI.includes(name)) out[name] = params.getAll(name);
    else if (params.has(name)) out[name] = params.get(name);
  }
  return out;
}

function writeState(push) {
  const params = new URLSearchParams();
  for (const name of KEYS) {
    const value = state[name];
    if (MULTI.includes(name)) (value || []).forEach((v) => params.append(name, v));
    else if (value !== undefined && value !== null && value !== "") params.set(name, value);
  }
  const url = location.pathname + (params.toString() ? "?" + params.toString() : "");
  if (url !== location.pathname + location.search) {
    history[push ? "pushState" : "replaceState"](null, "", url);
  }
}

function update(changes, push = true) {
  state = Object.assign({}, state, changes);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === "") delete state[name];
  }
  writeState(push);
  render();
}

// The query parameters of the current search, as the API (and the CLI) take them.
function searchParams(extra) {
  const params = new URLSearchParams();
  if (state.like !== undefined) {
    params.set("ref", state.like);
    if (state.key) params.set("key", "true");
    if (state.prior_art) params.set("prior_art", "true");
  } else if (state.q !== undefined) {
    params.set("q", state.q);
  }
  for (const w of state.where || []) params.append("where", w);
  for (const name of ["mode", "group_by", "collapse", "min_score"]) {
    if (state[name] !== undefined) params.set(name, state[name]);
  }
  params.set("limit", state.limit || "20");
  params.set("offset", state.offset || "0");
  for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
  return params;
}

function filterParams(extra) {
  const params = new URLSearchParams();
  for (const w of state.where || []) params.append("where", w);
  for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
  return params;
}

// -- the API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body.error + (body.hint ? " (" + body.hint + ")" : ""));
    this.status = status;
  }
}

async function api(path, params) {
  const url = path + (params && params.toString() ? "?" + params.toString() : "");
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  let body;
  try {
    body = await response.json();
  } catch (e) {
    body = { error: response.status + " " + response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function status(text, isError) {
  const node = $("status");
  node.textContent = text || "";
  node.classList.toggle("error", !!isError);
}

// -- a condition of the --where grammar (what a person would type) ----------------------

function quoted(text) {
  return '"' + String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

function condition(field, op, value) {
  const name = /[=!<>~"'|]/.test(field) || field.trim() !== field ? quoted(field) : field;
  const text = String(value);
  const plain = /^[^"'|=!<>~]+$/.test(text) && text.trim() === text;
  return name + op + (plain ? text : quoted(text));
}

function addWhere(expression) {
  const where = (state.where || []).slice();
  if (!where.includes(expression)) where.push(expression);
  update({ where, offset: undefined });
}

function removeWhere(expression) {
  update({ where: (state.where || []).filter((w) => w !== expression), offset: undefined });
}

// -- drawing ----------------------------------------------------------------------------------

async function render() {
  const load = ++loads;
  drawForm();
  drawChips();
  $("map-panel").hidden = state.map !== "1";
  $("map-toggle").classList.toggle("on", state.map === "1");
  // The map draws on its own (its first computation takes seconds): data-ready says the
  // rest of the page is drawn, #map[data-drawn] the map.
  if (state.map === "1") drawMap(load);
  await Promise.all([drawDates(load), drawResults(load), drawFacets(load), drawDocument(load),
    drawWhy(load)]);
  if (load === loads) document.body.dataset.ready = String(load);
}

function drawForm() {
  $("q").value = state.q || "";
  $("like").value = state.like || "";
  $("mode").value = state.mode || info.default_mode;
  $("prior-art").checked = !!state.prior_art;
  $("prior-art-box").hidden = state.like === undefined;
  $("group-by").value = state.group_by || "";
  $("collapse").value = state.collapse || "";
  $("min-score").value = state.min_score || "";
  $("limit").value = state.limit || "20";
  $("color").value = state.color || defaultColor();
  $("dates").hidden = !info.date_field;
}

// The date boxes hold a day as <input type="date"> writes it; a condition in another spelling
// (date>=2019, date<=2019-03, date>=2019년 3월 1일) shows the day the server reads it as
// (/api/dates: the first day a >= takes, the last a <= takes), so the page reads no date.
async function drawDates(load) {
  const bounds = dateBounds();
  const boxes = { from: $("date-from"), to: $("date-to") };
  const ask = new URLSearchParams();
  for (const [name, box] of Object.entries(boxes)) {
    box.value = bounds[name] || "";
    // a box empties itself when given anything but a day in its own spelling
    if (bounds[name] && box.value !== bounds[name]) ask.set(name, bounds[name]);
  }
  if (!ask.toString()) return;
  let days;
  try {
    days = await api("/api/dates", ask);
  } catch (e) {
    return; // the boxes stay empty; the search's own answer says what is wrong
  }
  if (load !== loads) return;
  for (const name of ask.keys()) boxes[name].value = days[name] || "";
}

function dateBounds() {
  const out = {};
  if (!info.date_field) return out;
  for (const w of state.where || []) {
    if (w === condition(info.date_field, ">=", w.split(">=").pop())) out.from = w.split(">=").pop();
    if (w === condition(info.date_field, "<=", w.split("<=").pop())) out.to = w.split("<=").pop();
  }
  return out;
}

function setDate(op, value) {
  const where = (state.where || []).filter(
    (w) => w !== condition(info.date_field, op, w.split(op).pop())
  );
  if (value) where.push(condition(info.date_field, op, value));
  update({ where, offset: undefined });
}

function drawChips() {
  const chips = clear($("chips"));
  for (const w of state.where || []) {
    chips.append(el("span", { class: "chip" }, w,
      el("button", { type: "button", title: "remove", "aria-label": "remove " + w,
        onclick: () => removeWhere(w) }, "×")));
  }
}

async function drawResults(load) {
  const tbody = clear($("hits").tBodies[0]);
  const queryDoc = clear($("query-doc"));
  const searching = state.like !== undefined || state.q !== undefined;
  $("pager").hidden = !searching;
  if (!searching) {
    lastHits = null;
    status(info.points.toLocaleString() + " documents. Type a text, or the row or key of a document.");
    return;
  }
  const path = state.like !== undefined ? "/api/like" : "/api/text";
  status("searching…");
  let answer;
  try {
    answer = await api(path, searchParams());
  } catch (e) {
    if (load !== loads) return;
    status(e.message, true);
    if (e.status === 503) setTimeout(() => load === loads && render(), RETRY_MS);
    return;
  }
  if (load !== loads) return;
  lastHits = answer;
  if (answer.query) {
    const q = answer.query;
    queryDoc.append("Similar to ",
      el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); update({ doc: q.key }); } },
        q.title || q.key),
      el("span", { class: "muted" }, " — key " + q.key + (q.row === null ? "" : ", row " + q.row) +
        (q.date ? ", " + cell(q.date, "datetime") : "") +
        (answer.prior_art ? "; prior art: " + answer.prior_art.field + " before " +
          cell(answer.prior_art.before, "datetime") : "")));
  }
  const fields = columnsOf(answer);
  for (const hit of answer.hits) {
    const p = hit.payload;
    tbody.append(el("tr", { "data-key": hit.key, class: state.doc === hit.key ? "selected" : null },
      el("td", { class: "num" }, hit.rank),
      el("td", { class: "num" }, hit.score.toFixed(4)),
      el("td", {}, hit.key, familyNote(hit.family)),
      el("td", { class: "title" },
        el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); update({ doc: hit.key }); } },
          cell(p[fields.title]) || "(untitled)")),
      el("td", {}, cell(p[fields.owner])),
      el("td", { class: "num" }, cell(p[fields.date], "datetime")),
      el("td", { class: "classes" }, cell(p[fields.classes])),
      el("td", {}, el("button", { type: "button", class: "why", title: "why similar",
        onclick: () => update({ why: hit.key }) }, "why"))));
  }
  const offset = Number(state.offset || 0);
  const limit = Number(state.limit || 20);
  $("prev").disabled = offset === 0;
  $("next").disabled = answer.hits.length < limit;
  $("page-info").textContent = answer.hits.length
    ? "results " + (offset + 1) + "–" + (offset + answer.hits.length) + " · mode " + answer.mode_detail
    : "";
  for (const fmt of ["xlsx", "csv"]) {
    $("export-" + fmt).href = path + "/export?" + searchParams({ format: fmt }).toString();
  }
  // For the benchmark of the first page (bench/web.py): when the results were on the page.
  if (!performance.getEntriesByName("results-drawn").length) performance.mark("results-drawn");
  status(answer.hits.length ? "" : "no matching documents" +
    (answer.filtered ? " (loosen the filters)" : ""));
}

// With "one per family": how many more publications the hit's family has, and which.
function familyNote(family) {
  if (!family || family.size < 2) return null;
  return el("span", { class: "muted family", title: family.members.map((m) => m.key).join(", ") },
    " +" + (family.size - 1));
}

function columnsOf(answer) {
  const fields = info.fields.map((f) => f.name);
  const lists = info.fields.filter((f) => f.list && f.type === "keyword").map((f) => f.name);
  return {
    title: answer.title_field || info.title_field,
    owner: info.owner_field,
    date: answer.date_field || info.date_field,
    classes: info.classes_field || lists[0] || fields[0],
  };
}

async function drawFacets(load) {
  const aside = $("facets");
  const answers = await Promise.all(info.facet_fields.map((field) =>
    api("/api/facets", filterParams({ field, limit: "10" })).catch((e) => ({ error: e }))));
  if (load !== loads) return;
  clear(aside);
  const total = answers.find((a) => !a.error);
  if (total) aside.append(el("p", { class: "muted" }, total.total.toLocaleString() + " documents match the filters"));
  answers.forEach((answer) => {
    if (answer.error || !answer.counts.length) return;
    // A field whose values are all different (a key, a number) is nothing to count.
    if (answer.counts[0].count < 2 && answer.total > 1) return;
    aside.append(el("h3", {}, answer.field));
    for (const c of answer.counts) {
      const where = condition(answer.field, "=", cell(c.value));
      aside.append(el("button", { type: "button", class: "facet", "data-field": answer.field,
        "data-value": cell(c.value), title: where, onclick: () => addWhere(where) },
        el("span", { class: "value" }, cell(c.value)), el("span", { class: "count" }, c.count)));
    }
  });
}

async function drawDocument(load) {
  const panel = $("doc-panel");
  $("main").classList.toggle("no-side", state.doc === undefined && state.why === undefined);
  if (state.doc === undefined) {
    panel.hidden = true;
    return;
  }
  let doc, near;
  try {
    const ref = new URLSearchParams({ ref: state.doc, key: "true" });
    const params = new URLSearchParams({ ref: state.doc, key: "true", limit: "10" });
    if (state.mode) params.set("mode", state.mode);
    [doc, near] = await Promise.all([api("/api/doc", ref), api("/api/like", params)]);
  } catch (e) {
    if (load === loads) status(e.message, true);
    return;
  }
  if (load !== loads) return;
  panel.hidden = false;
  $("doc-title").textContent = doc.title || doc.key;
  const body = clear($("doc-fields").tBodies[0]);
  body.append(el("tr", {}, el("th", {}, "key"), el("td", {}, doc.key)));
  body.append(el("tr", {}, el("th", {}, "row"), el("td", {}, doc.row === null ? "" : doc.row)));
  for (const name of doc.fields) {
    if (!(name in doc.payload)) continue;
    body.append(el("tr", {}, el("th", {}, name), el("td", {}, cell(doc.payload[name], doc.types[name]))));
  }
  const list = clear($("neighbours"));
  const title = near.title_field;
  for (const hit of near.hits) {
    list.append(el("li", { "data-key": hit.key },
      el("span", { class: "score" }, hit.score.toFixed(4)),
      el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); update({ doc: hit.key, why: undefined }); } },
        cell(hit.payload[title]) || hit.key),
      " ",
      el("button", { type: "button", class: "why", onclick: () => update({ why: hit.key }) }, "why similar")));
  }
}

async function drawWhy(load) {
  const panel = $("why-panel");
  // The hit `why` against the open document, else against the query: a document or a text.
  const base = state.doc !== undefined && state.doc !== state.why ? state.doc : state.like;
  const text = base === undefined ? state.q : undefined;
  if (state.why === undefined || (base === undefined && text === undefined)) {
    panel.hidden = true;
    return;
  }
  let answer, hit, query;
  try {
    if (base !== undefined) {
      const ref = new URLSearchParams({ ref: base });
      if (base === state.doc || state.key) ref.set("key", "true");
      query = await api("/api/doc", ref);
    }
    // Both documents by key from here on (a row number and a key never mix up).
    const params = new URLSearchParams({ ref: state.why, key: "true" });
    if (query) params.set("query", query.key);
    else params.set("q", text);
    [answer, hit] = await Promise.all([
      api("/api/explain", params),
      api("/api/doc", new URLSearchParams({ ref: state.why, key: "true" })),
    ]);
  } catch (e) {
    if (load === loads) status(e.message, true);
    panel.hidden = true;
    return;
  }
  if (load !== loads) return;
  panel.hidden = false;
  const terms = clear($("why-terms"));
  if (!answer.terms.length) terms.append(el("span", { class: "muted" }, "no shared terms"));
  for (const t of answer.terms) {
    terms.append(el("span", { class: "term", title: t.term + " · " + t.documents + " documents" },
      t.word, el("small", {}, Number(t.weight).toFixed(2))));
  }
  const left = query
    ? { title: (query.title || query.key) + " (" + query.key + ")", texts: textsOf(query, answer.query_spans) }
    : { title: "query text", texts: [[text, answer.query_spans.text || []]] };
  const right = { title: (hit.title || hit.key) + " (" + hit.key + ")", texts: textsOf(hit, answer.hit_spans) };
  for (const [side, doc] of [["left", left], ["right", right]]) {
    $("why-" + side + "-title").textContent = doc.title;
    const node = clear($("why-" + side));
    for (const [body, spans] of doc.texts) {
      highlight(node.appendChild(el("p", { class: "text" })), body, spans);
    }
  }
}

// The document's analyzed text fields, each with the spans of the shared terms in it.
function textsOf(doc, spansByField) {
  return Object.keys(spansByField)
    .filter((field) => typeof doc.payload[field] === "string")
    .map((field) => [doc.payload[field], spansByField[field]]);
}

// The text with the shared terms marked at the characters the analyzer found them;
// built from text nodes and <mark> elements only.
function highlight(node, text, spans) {
  const marks = spans.map((s) => [s[0], s[1], s[2]]).sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let at = 0;
  for (const [start, end, term] of marks) {
    if (start < at) continue;
    node.append(text.slice(at, start), el("mark", { "data-term": term }, text.slice(start, end)));
    at = end;
  }
  node.append(text.slice(at));
}

// -- the map ---------------------------------------------------------------------------------

function defaultColor() {
  return info.map_colors && info.map_colors.length ? info.map_colors[0] : "";
}

let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = el("script", { src: "/static/vendor/plotly.min.js" });
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("the plotting library could not be loaded"));
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

// The map draws the documents of the page's filters (facet clicks, dates, where), each at
// its place on the whole collection's map; its own box selection (_key=) is drawn as a
// highlight instead, so the points around it stay to select again.
function mapParams(extra) {
  const params = new URLSearchParams();
  for (const w of state.where || []) if (!w.startsWith("_key=")) params.append("where", w);
  const color = state.color || defaultColor();
  if (color) params.set("color", color);
  for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
  return params;
}

async function drawMap(load) {
  const note = $("map-note");
  const node = $("map");
  let answer, Plotly;
  try {
    note.textContent = "drawing the map…";
    [answer, Plotly] = await Promise.all([api("/api/map", mapParams()), loadPlotly()]);
  } catch (e) {
    if (load !== loads) return;
    note.textContent = e.message;
    if (window.Plotly && node.dataset.wired) {
      window.Plotly.purge(node); // a map of other filters must not stay under this message
      delete node.dataset.wired;
    }
    node.dataset.points = "0";
    node.dataset.drawn = String(load);
    return;
  }
  if (load !== loads) return;
  note.textContent = answer.points.length.toLocaleString() + " of " + answer.total.toLocaleString() +
    " documents · " + answer.description +
    (answer.cached ? "" : " (computed in " + answer.seconds + " s, then cached)");
  $("map-export").href = "/api/map/export?" + mapParams({ format: "html" }).toString();
  // One trace per legend entry (the most frequent values), then "other" and "(none)".
  const legend = answer.legend.map((e) => e.value);
  const shown = new Set(legend);
  const groups = new Map(legend.map((v) => [v, []]));
  for (const p of answer.points) {
    const name = p.color === null || p.color === undefined ? "(none)" : shown.has(p.color) ? p.color : "other";
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(p);
  }
  const selected = new Set(selectedKeys());
  const traces = [...groups.entries()].filter(([, points]) => points.length).map(([name, points]) => ({
    type: "scatter", mode: "markers", name,
    x: points.map((p) => p.x), y: points.map((p) => p.y),
    customdata: points.map((p) => p.key),
    text: points.map((p) => p.title || p.key),
    hovertemplate: "%{text}<extra>%{fullData.name}</extra>",
    marker: { size: 7, opacity: 0.8 },
    selectedpoints: selected.size ? points.flatMap((p, i) => (selected.has(p.key) ? [i] : [])) : null,
  }));
  // The whole map's frame (its coordinates span -1 to 1), so a filtered subset stays in place.
  const frame = [-1.05, 1.05];
  const layout = { margin: { l: 30, r: 10, t: 10, b: 30 }, dragmode: "select",
    hovermode: "closest", uirevision: answer.color_field || "plain",
    xaxis: { zeroline: false, showticklabels: false, range: frame },
    yaxis: { zeroline: false, showticklabels: false, range: frame } };
  await Plotly.react(node, traces, layout, { displaylogo: false, responsive: true });
  node.dataset.points = String(answer.points.length);
  node.dataset.drawn = String(load);
  node.dataset.traces = String(traces.length);
  if (!node.dataset.wired) {
    node.dataset.wired = "1";
    node.on("plotly_click", (ev) => {
      const key = ev.points && ev.points[0] && ev.points[0].customdata;
      if (key !== undefined) update({ doc: String(key) });
    });
    node.on("plotly_selected", (ev) => {
      if (!ev || !ev.points || !ev.points.length) return;
      selectPoints(ev.points.map((p) => String(p.customdata)));
    });
  }
}

// A box selection on the map filters the list to its documents (a _key condition).
function selectedKeys() {
  const w = (state.where || []).find((c) => c.startsWith("_key="));
  return w ? w.slice(5).split("|").map((k) => k.replace(/^"|"$/g, "").replace(/\\(.)/g, "$1")) : [];
}

function selectPoints(keys) {
  keys = [...new Set(keys)];
  if (keys.length > MAX_SELECTED) {
    status(keys.length + " documents selected: select at most " + MAX_SELECTED + " to filter the list", true);
    return;
  }
  const where = (state.where || []).filter((w) => !w.startsWith("_key="));
  where.push("_key=" + keys.map((k) => condition("k", "=", k).slice(2)).join("|"));
  update({ where, offset: undefined });
}

// -- wiring -----------------------------------------------------------------------------------

function wire() {
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (!q) return;
    update({ q, like: undefined, key: undefined, prior_art: undefined, offset: undefined });
  });
  const similar = () => {
    const ref = $("like").value.trim();
    if (ref) update({ like: ref, q: undefined, offset: undefined });
  };
  $("like-go").addEventListener("click", similar);
  $("like").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); similar(); }
  });
  $("mode").addEventListener("change", () => update({ mode: $("mode").value, offset: undefined }));
  $("where-add").addEventListener("click", () => {
    const w = $("where").value.trim();
    if (w) { $("where").value = ""; addWhere(w); }
  });
  $("where").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); $("where-add").click(); }
  });
  $("date-from").addEventListener("change", () => setDate(">=", $("date-from").value));
  $("date-to").addEventListener("change", () => setDate("<=", $("date-to").value));
  $("prior-art").addEventListener("change", () =>
    update({ prior_art: $("prior-art").checked ? "1" : undefined, offset: undefined }));
  $("group-by").addEventListener("change", () => update({ group_by: $("group-by").value, offset: undefined }));
  $("collapse").addEventListener("change", () => update({ collapse: $("collapse").value, offset: undefined }));
  $("min-score").addEventListener("change", () => update({ min_score: $("min-score").value, offset: undefined }));
  $("limit").addEventListener("change", () => update({ limit: $("limit").value, offset: undefined }));
  $("prev").addEventListener("click", () => {
    const limit = Number(state.limit || 20);
    update({ offset: String(Math.max(0, Number(state.offset || 0) - limit)) || undefined });
  });
  $("next").addEventListener("click", () =>
    update({ offset: String(Number(state.offset || 0) + Number(state.limit || 20)) }));
  $("doc-close").addEventListener("click", () => update({ doc: undefined, why: undefined }));
  $("why-close").addEventListener("click", () => update({ why: undefined }));
  $("map-toggle").addEventListener("click", () => update({ map: state.map === "1" ? undefined : "1" }));
  $("color").addEventListener("change", () => update({ color: $("color").value }));
  window.addEventListener("popstate", () => { state = readState(); render(); });
}

function fillChoices() {
  $("collection").textContent = info.collection + " · " + info.points.toLocaleString() +
    " documents · " + info.backend + (info.state && info.state !== "ready"
      ? " · not fully loaded (" + info.state + "): run the same ingest load again to finish it" : "");
  if (info.dashboard) {
    $("dashboard").href = info.dashboard;
    $("dashboard").hidden = false;
  }
  for (const mode of info.modes) {
    $("mode").append(el("option", { value: mode }, mode + (mode === info.default_mode ? " (default)" : "")));
  }
  for (const name of info.facet_fields) $("group-by").append(el("option", { value: name }, name));
  for (const name of info.map_colors || []) $("color").append(el("option", { value: name }, name));
}

async function start() {
  try {
    info = await api("/api/info");
  } catch (e) {
    status(e.message, true);
    if (e.status === 503) setTimeout(start, RETRY_MS);
    return;
  }
  fillChoices();
  wire();
  state = readState();
  render();
}

document.addEventListener("DOMContentLoaded", start);
