// The monitor page: keeps status, progress, jobs, timeline, CPU and memory charts, cost and log
// current by polling the status and log JSON every 2 s while the run is not final, backing off
// (up to 30 s) while the server cannot be reached and saying so; once final it refreshes one
// last time and stops. The action forms are posted with fetch (the forms work without it).
// No framework: plain DOM, text set with textContent, charts as small inline SVG.
(function () {
  "use strict";
  const root = document.getElementById("sim");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const POLL_MS = 2000, MAX_BACKOFF_MS = 30000, LOG_KEEP_CHARS = 400000;

  let lastEvent = Number(root.dataset.lastEvent || 0);
  const finalAtLoad = root.dataset.final === "true";
  let timer = null, busy = false, stopped = false, failures = 0;
  let outputsStale = false;  // an action was taken: the outputs may change before the run ends again

  // --- formatting ---------------------------------------------------------------------------
  const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 19) : "–");  // the server sends UTC
  const minute = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) : "–");
  function usd(x) {
    if (x === null || x === undefined) return "–";
    if (x > 0 && x < 0.00005) return "< $0.0001";
    if (x > 0 && x < 0.01) return "$" + x.toFixed(4);
    return "$" + x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return "about " + s + " s";
    if (s < 3600) return "about " + Math.round(s / 60) + " min";
    if (s < 86400) return "about " + Math.floor(s / 3600) + " h " + String(Math.round((s % 3600) / 60)).padStart(2, "0") + " min";
    return "about " + (s / 86400).toFixed(1) + " days";
  }
  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- the connection notice ------------------------------------------------------------------
  function connectionLost(delay) {
    const box = $("connection");
    box.textContent = "Connection lost, retrying in " + Math.round(delay / 1000) + " s…";
    box.hidden = false;
  }
  function connectionBack() { $("connection").hidden = true; }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  // --- status, progress, actions ------------------------------------------------------------------
  function renderStatus(d) {
    const status = $("status");
    status.textContent = d.status_label;
    status.className = "status " + d.status;
    root.dataset.final = d.is_final ? "true" : "false";
    $("reason").textContent = d.status_reason || "";
    $("reason-box").hidden = !d.status_reason;
    const p = d.progress;
    $("bar").style.width = p.percent.toFixed(0) + "%";
    $("progressbar").setAttribute("aria-valuenow", p.percent.toFixed(0));
    $("percent").textContent = p.percent.toFixed(1);
    $("simulated").textContent = minute(p.simulated_time);
    $("throughput").textContent = p.days_per_day ? Math.round(p.days_per_day).toLocaleString("en-US") + " simulated days/day" : "–";
    $("eta").textContent = d.is_final ? (d.status === "succeeded" ? "finished" : "stopped") : (p.eta_seconds !== null ? duration(p.eta_seconds)
      : (p.segment_eta_seconds !== null ? duration(p.segment_eta_seconds) + " for this segment" : "–"));
    $("segments").textContent = d.segments_done + "/" + d.segments_total;
    $("current-job-label").textContent = d.is_final ? "Last job" : "Current job";
    $("current-job").textContent = p.segment ? "segment " + p.segment + ", attempt " + p.attempt + " · " + p.job_state : "none yet";
    for (const [name, allowed] of Object.entries(d.actions)) {
      const action = document.querySelector('[data-action="' + name + '"]');
      if (action) action.hidden = !allowed;
    }
  }

  // --- jobs ----------------------------------------------------------------------------------------
  function reasonCell(reason) {  // a long reason (a log tail) folds away behind its start
    const td = el("td", { class: "reason-cell" });
    if (reason.length <= 90) { td.textContent = reason; return td; }
    const details = el("details");
    details.append(el("summary", {}, reason.slice(0, 89) + "…"), el("div", { class: "reason-full" }, reason));
    td.append(details);
    return td;
  }
  let shownJobs = null;
  function renderJobs(jobs, current) {
    const key = JSON.stringify([jobs, current]);
    if (key === shownJobs) return;  // unchanged: keep the rows (and any reason opened)
    shownJobs = key;
    const body = $("jobs");
    body.replaceChildren();
    for (const job of jobs) {
      const tr = el("tr");
      if (job.name === current) { tr.className = "current"; tr.setAttribute("aria-current", "true"); }
      const seg = el("td", {}, String(job.segment));
      seg.append(el("div", { class: "small muted" }, (job.period_start || "").slice(0, 10) + " – " + (job.period_end || "").slice(0, 10)));
      const state = el("td");
      state.append(el("span", { class: "job-state " + job.state.toLowerCase() }, job.state));
      if (job.interrupted) state.append(" ", el("span", { class: "small warn" }, "interrupted"));
      const name = el("td");
      name.append(el("code", {}, job.name));
      tr.append(seg, el("td", {}, String(job.attempt)), name, state,
        el("td", { class: "nowrap" }, when(job.submitted_at)), el("td", { class: "nowrap" }, when(job.started_at)),
        el("td", { class: "nowrap" }, when(job.stopped_at)),
        el("td", { class: "num" }, job.exit_code === null ? "" : String(job.exit_code)),
        reasonCell(job.reason || ""));
      body.append(tr);
    }
    $("no-jobs").hidden = jobs.length > 0;
    $("jobs-table").hidden = jobs.length === 0;
  }

  // --- the timeline ----------------------------------------------------------------------------------
  function renderEvents(events) {
    const list = $("timeline");
    for (const e of events) {
      if (e.id <= lastEvent) continue;
      const li = el("li", { class: "event" + (e.status_change ? " change" : ""), "data-id": String(e.id) });
      li.append(el("time", { datetime: e.at }, when(e.at)));
      const what = el("div", { class: "what" });
      if (e.status_change) {
        const t = el("span", { class: "transition" });
        if (e.from_status) t.append(el("span", { class: "status " + e.from_status }, e.from_status), " → ");
        t.append(el("span", { class: "status " + e.to_status }, e.to_status));
        what.append(t, " ");
      }
      what.append(el("span", { class: "message" }, e.message),
        " ", el("span", { class: "who" }, e.who ? "by " + e.who + " (" + e.source + ")" : "by the platform (" + e.source + ")"));
      li.append(what);
      list.append(li);
      lastEvent = e.id;
    }
  }

  // --- CPU and memory charts ------------------------------------------------------------------------
  function niceMax(v, floor) {
    const top = Math.max(v, floor);
    const step = Math.pow(10, Math.floor(Math.log10(top)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= top) return m * step;
    return 10 * step;
  }
  function drawChart(svg, points, unit, floor) {
    const W = 360, H = 140, L = 46, R = 8, T = 10, B = 24;
    svg.replaceChildren();
    const t0 = points[0].t, t1 = points[points.length - 1].t, span = Math.max(t1 - t0, 1);
    const top = niceMax(Math.max(...points.map((p) => p.v)), floor);
    const x = (t) => L + (W - L - R) * (points.length === 1 ? 1 : (t - t0) / span);
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      svg.append(n);
      return n;
    };
    for (const v of [0, top / 2, top]) {
      add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v ? "grid" : "axis" });
      add("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "tick" }, (Math.round(v * 10) / 10).toLocaleString("en-US"));
    }
    add("text", { x: 4, y: T + 4, class: "unit" }, unit);
    const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
    add("text", { x: L, y: H - 6, class: "tick" }, clock(t0));
    add("text", { x: W - R, y: H - 6, "text-anchor": "end", class: "tick" }, clock(t1) + " UTC");
    const line = points.map((p) => x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join(" ");
    add("polygon", { points: x(t0).toFixed(1) + "," + y(0) + " " + line + " " + x(t1).toFixed(1) + "," + y(0), class: "area" });
    add("polyline", { points: line, class: "line" });
    const last = points[points.length - 1];
    add("circle", { cx: x(last.t), cy: y(last.v), r: 3, class: "dot" });
  }
  function renderSamples(samples, final) {
    const has = samples.length > 0;
    $("samples-note").hidden = has;
    $("samples-note").textContent = final ? "No CPU or memory samples: the runner reported none for the last job."
      : "No CPU or memory samples yet: the runner reports them while the model runs.";
    $("sample-charts").hidden = !has;
    if (!has) return;
    const at = samples.map((s) => Date.parse(s.t));
    const cpu = samples.map((s, i) => ({ t: at[i], v: s.cpu_percent }));
    const rss = samples.map((s, i) => ({ t: at[i], v: s.rss_mb }));
    const last = samples[samples.length - 1];
    drawChart($("cpu-chart"), cpu, "%", 100);
    drawChart($("rss-chart"), rss, "MB", 1);
    $("cpu-latest").textContent = "latest " + last.cpu_percent.toFixed(0) + " %";
    $("rss-latest").textContent = "latest " + last.rss_mb.toFixed(0) + " MB";
    const minutes = Math.max(1, Math.round((at[at.length - 1] - at[0]) / 60000));
    $("cpu-chart").setAttribute("aria-label", "CPU use over the last " + plural(minutes, "minute") + ", latest " + last.cpu_percent.toFixed(0) + " %");
    $("rss-chart").setAttribute("aria-label", "Resident memory over the last " + plural(minutes, "minute") + ", latest " + last.rss_mb.toFixed(0) + " MB");
  }

  // --- cost so far vs the estimate -------------------------------------------------------------------
  function renderCost(c) {
    $("cost-so-far").textContent = usd(c.so_far_usd);
    const e = c.estimate;
    $("cost-vs").textContent = !e ? "" : e.expected_usd !== null ? " of " + usd(e.expected_usd) + " expected"
      : e.high_usd !== null ? " of at most " + usd(e.high_usd) + " (the upper estimate)" : "";
    $("cost-running").textContent = c.running_usd ? "with " + usd(c.running_usd) + " for the running job" : "";
    const notional = $("cost-notional");
    if (c.notional && !notional.firstChild) notional.append(el("span", { class: "badge notional", title: "Run on the local backend" }, "notional"));
    const note = $("cost-notional-note");
    if (c.finished_jobs && c.notional && !note.firstChild) {
      note.append(el("span", { class: "badge notional", title: "Run on the local backend" }, "notional"), " ",
        el("span", { class: "small muted" }, "priced as if on AWS, not billed"));
    }
    $("cost-total").textContent = usd(c.finished_usd);
    $("cost-compute").textContent = usd(c.compute_usd);
    $("cost-storage").textContent = usd(c.storage_usd);
    $("cost-jobs").textContent = plural(c.finished_jobs, "finished job");
    const hint = $("cost-hint");
    if (hint) hint.hidden = c.finished_jobs > 0 || root.dataset.final === "true";
    const bar = $("cost-bar");
    // The bar needs an expected figure; without one the upper estimate alone says little.
    if (!e || e.expected_usd === null) { bar.hidden = true; return; }
    const high = e.high_usd ?? e.expected_usd;
    const scale = Math.max(high, c.so_far_usd, e.expected_usd) || 1;
    const pct = (v) => (100 * v / scale).toFixed(1) + "%";
    const low = e.low_usd ?? e.expected_usd ?? 0;
    bar.querySelector(".band").style.left = pct(low);
    bar.querySelector(".band").style.width = pct(high - low);
    bar.querySelector(".spent").style.width = pct(Math.min(c.so_far_usd, scale));
    bar.querySelector(".spent").classList.toggle("over", c.so_far_usd > high);
    bar.querySelector(".mark").style.left = pct(e.expected_usd);
    bar.title = usd(c.so_far_usd) + " so far; expected " + usd(e.expected_usd) + " (" + usd(low) + " to " + usd(high) + ")";
    bar.hidden = false;
  }

  function render(d) {
    renderStatus(d);
    renderJobs(d.jobs, d.job);
    renderEvents(d.events);
    renderSamples(d.samples, d.is_final);
    renderCost(d.cost);
    if (d.outputs_html !== undefined) $("outputs").innerHTML = d.outputs_html;  // the server's own template
  }

  // --- the log: follows the end unless paused; paused, it keeps its place as text comes in -----------
  const log = {
    box: $("log"), pause: $("log-pause"), end: $("log-end"), note: $("log-state"),
    position: "", job: null, paused: false, unseen: 0,
  };
  const atEnd = () => log.box.scrollHeight - log.box.scrollTop - log.box.clientHeight < 24;
  let placed = 0;  // where toEnd last put the scroll position
  function toEnd() { log.box.scrollTop = log.box.scrollHeight; placed = log.box.scrollTop; }
  function showLogState() {
    log.pause.textContent = log.paused ? "Resume" : "Pause";
    log.pause.setAttribute("aria-pressed", String(log.paused));
    log.note.textContent = log.paused ? "paused" + (log.unseen ? ": " + plural(log.unseen, "new line") + " below" : "") : "following the end";
  }
  function setPaused(paused) {
    log.paused = paused;
    if (!paused) { log.unseen = 0; toEnd(); }
    showLogState();
  }
  log.pause.addEventListener("click", () => setPaused(!log.paused));
  log.end.addEventListener("click", () => { toEnd(); log.unseen = 0; showLogState(); });
  // Scrolling up to read pauses (a scroll the page did not make: up from where it put the end);
  // scrolling back to the end while paused counts the new lines as seen.
  log.box.addEventListener("scroll", () => {
    if (!log.paused && !atEnd() && log.box.scrollTop < placed - 4) setPaused(true);
    else if (log.paused && atEnd() && log.unseen) { log.unseen = 0; showLogState(); }
  });
  function appendLog(text) {
    log.box.append(document.createTextNode(text));
    if (log.box.textContent.length > LOG_KEEP_CHARS) {  // keep the page light: drop the oldest lines
      const keep = log.box.textContent.slice(-LOG_KEEP_CHARS);
      log.box.textContent = "[earlier lines trimmed]\n" + keep.slice(keep.indexOf("\n") + 1);
    }
    if (log.paused) { log.unseen += (text.match(/\n/g) || []).length; showLogState(); return; }
    toEnd();
  }
  async function pollLog() {
    for (let round = 0; round < 20; round++) {  // catch up in big steps, then one read a poll
      const url = root.dataset.logUrl + "?position=" + encodeURIComponent(log.position) + (log.job ? "&job=" + encodeURIComponent(log.job) : "");
      const d = await getJSON(url);
      if (d.job && d.job !== log.job) {
        log.job = d.job; log.position = ""; log.box.textContent = ""; log.unseen = 0;
        $("log-job").textContent = d.job;
      }
      if (d.position) log.position = d.position;
      if (d.text) appendLog(d.text);
      if (!d.text || d.text.length < 60000) break;
    }
  }

  // --- the poll --------------------------------------------------------------------------------------
  async function refresh(withOutputs) {
    const url = root.dataset.statusUrl + "?after=" + lastEvent + (withOutputs ? "&outputs=1" : "");
    const d = await getJSON(url);
    render(d);
    await pollLog();
    return d;
  }
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(tick, ms); }
  async function tick() {
    if (busy) return;
    busy = true;
    let d = null;
    try {
      d = await refresh(false);
      failures = 0;
      connectionBack();
    } catch (err) {
      failures += 1;
      const delay = Math.min(POLL_MS * Math.pow(2, failures), MAX_BACKOFF_MS);
      connectionLost(delay);
      busy = false;
      schedule(delay);
      return;
    }
    busy = false;
    if (!d.is_final) { schedule(POLL_MS); return; }
    stopped = true;
    if (!finalAtLoad || outputsStale) {
      // It just ended: one last refresh a moment later, for the last log lines, the job's cost,
      // the final events and the outputs it copied.
      outputsStale = false;
      setTimeout(() => { refresh(true).catch(() => {}); }, 1500);
    }
  }
  function wake() { stopped = false; schedule(0); }

  // --- the actions, posted with fetch -------------------------------------------------------------------
  function say(level, text) {
    const box = $("action-message");
    box.replaceChildren(el("div", { class: "msg " + level }, text));
  }
  async function post(form) {
    $("action-message").replaceChildren();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const type = r.headers.get("Content-Type") || "";
      if (!type.includes("application/json")) throw new Error("HTTP " + r.status);
      const answer = await r.json();
      if (answer.redirect) { window.location.assign(answer.redirect); return; }
      say(answer.level, answer.message);
      outputsStale = true;
      wake();
    } catch (err) {
      say("error", "The request did not reach the server (" + err.message + "); nothing was changed. Try again.");
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      const details = form.closest("details");
      if (details) details.open = false;
    }
  }
  document.querySelectorAll("#actions form").forEach((form) => {
    form.addEventListener("submit", (event) => { event.preventDefault(); post(form); });
  });

  showLogState();
  tick();
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !stopped) schedule(0); });
})();
