// Polls the simulation's status and log while it is not final; reloads once when it ends so
// the outputs, jobs and events tables show the final state.
(function () {
  const root = document.getElementById("sim");
  if (!root) return;
  const logEl = document.getElementById("log");
  const follow = document.getElementById("follow");
  let position = "", job = null, wasFinal = root.dataset.final === "true";

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }

  async function pollLog() {
    const url = root.dataset.logUrl + "?position=" + encodeURIComponent(position) + (job ? "&job=" + encodeURIComponent(job) : "");
    const d = await getJSON(url);
    if (d.job && d.job !== job) { job = d.job; position = ""; logEl.textContent = ""; document.getElementById("log-job").textContent = d.job; }
    if (d.position) position = d.position;
    if (d.text) { logEl.textContent += d.text; if (follow.checked) logEl.scrollTop = logEl.scrollHeight; }
    return d;
  }

  async function pollStatus() {
    const d = await getJSON(root.dataset.statusUrl);
    const status = document.getElementById("status");
    status.textContent = d.status_label; status.className = "status " + d.status;
    let pct = d.progress_percent;
    const live = d.live;
    if (live && typeof live.percent === "number" && d.segments_total) {
      pct = Math.max(pct, 100 * (d.segments_done + live.percent / 100) / d.segments_total);
      const parts = [];
      if (live.days_per_day) parts.push(Math.round(live.days_per_day) + " simulated days/day");
      if (live.eta_seconds != null) parts.push("segment ETA " + Math.round(live.eta_seconds) + " s");
      document.getElementById("live").textContent = parts.length ? "· " + parts.join(" · ") : "";
      if (live.simulated_time) document.getElementById("simulated").textContent = live.simulated_time.replace("T", " ").slice(0, 16);
    } else if (d.simulated_until) {
      document.getElementById("simulated").textContent = d.simulated_until.replace("T", " ").slice(0, 16);
    }
    document.getElementById("bar").style.width = pct.toFixed(0) + "%";
    document.getElementById("percent").textContent = pct.toFixed(1);
    document.getElementById("segments").textContent = d.segments_done + "/" + d.segments_total;
    if (d.status_reason) { document.getElementById("reason").textContent = d.status_reason; document.getElementById("reason-box").hidden = false; }
    return d;
  }

  async function tick() {
    try {
      const [s] = await Promise.all([pollStatus(), pollLog()]);
      if (s.is_final) { if (!wasFinal) window.location.reload(); return; }
    } catch (e) {
      document.getElementById("live").textContent = "· connection lost, retrying…";
    }
    setTimeout(tick, 2000);
  }
  if (wasFinal) { pollLog().catch(() => {}); } else { tick(); }
})();
