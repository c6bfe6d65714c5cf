/* The new-simulation wizard, made a little quicker in the browser. No framework; every step also
   works without this file (the server computes the choices and checks everything). It:
   - hides the simulations, options and nested regions that do not apply to what is chosen;
   - draws the domain's box on the map: dragging fills the four edges, typing them moves the box;
   - shows the scenario only for GISS ModelE2.1 and marks the date rule of the chosen meteorology;
   - shows the chosen instance type's cores and memory, and fills Classic's threads from it;
   - copies the YAML, and lets Submit be pressed once. */
(function () {
  "use strict";
  var root = document.querySelector(".wizard");
  if (!root) { return; }
  var step = root.getAttribute("data-step");
  var model = root.getAttribute("data-model");
  var form = document.getElementById("wizard-form");

  function field(name) { return form.querySelector('[name="' + name + '"]'); }
  function json(id) { var node = document.getElementById(id); return node ? JSON.parse(node.textContent) : null; }
  function row(name) { return document.getElementById("row-" + name); }

  /* Narrow a select to the options `keep` accepts; on a change (not on load, where the server's
     message about a stale value must stay visible) move off an option that no longer applies. */
  function narrow(select, keep, moveOff) {
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var ok = keep(option);
      option.hidden = !ok;
      option.disabled = !ok;
      if (ok && first === null) { first = option.value; }
    });
    var chosen = select.options[select.selectedIndex];
    if (moveOff && chosen && chosen.disabled && first !== null) { select.value = first; }
  }

  // --- submit once -------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    var button = event.submitter;
    if (button && button.classList.contains("submit-once")) {
      form.setAttribute("data-sent", "1");
      button.textContent = button.value === "draft" ? "Saving…" : "Submitting…";
      // Disabled after this turn, so the pressed button's own name and value are still sent.
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll(".submit-once"), function (b) {
          b.disabled = true;
          b.setAttribute("aria-disabled", "true");
        });
      }, 0);
    }
  });

  // --- 1. simulation type ------------------------------------------------------------------
  if (step === "type") {
    var offered = json("simulation-models-data") || {};
    var simulation = field("type-simulation");
    var option = field("type-option");
    var chosenModel = function () {
      var checked = form.querySelector('[name="type-model"]:checked');
      return checked ? checked.value : "classic";
    };
    var applyOptions = function (moveOff) {
      var any = false;
      Array.prototype.forEach.call(option.querySelectorAll("optgroup"), function (group) {
        var ok = group.label === simulation.value;
        group.hidden = !ok;
        group.disabled = !ok;
        any = any || ok;
      });
      var chosen = option.options[option.selectedIndex];
      if (moveOff && chosen && chosen.parentNode.disabled) { option.value = ""; }
      var optionRow = row("type-option");
      if (optionRow && !optionRow.classList.contains("has-error")) { optionRow.hidden = !any; }
    };
    var applyModel = function (moveOff) {
      var current = chosenModel();
      narrow(simulation, function (o) { return (offered[o.value] || "").split(" ").indexOf(current) >= 0; }, moveOff);
      applyOptions(moveOff);
    };
    Array.prototype.forEach.call(form.querySelectorAll('[name="type-model"]'), function (radio) {
      radio.addEventListener("change", function () { applyModel(true); });
    });
    simulation.addEventListener("change", function () { applyOptions(true); });
    applyModel(false);
  }

  // --- 2. domain and resolution: the map ---------------------------------------------------
  if (step === "domain" && field("domain-domain")) {
    var boxes = json("region-boxes") || {};
    var resolution = field("domain-resolution");
    var domain = field("domain-domain");
    var edges = ["lon_west", "lon_east", "lat_south", "lat_north"].map(function (n) { return field("domain-" + n); });
    var svg = document.getElementById("domain-map");
    var frame = document.getElementById("map-frame");
    var rect = document.getElementById("domain-box");
    var custom = document.getElementById("custom-box");

    var regionBox = function (code) {
      var byResolution = boxes[code];
      if (!byResolution) { return null; }
      if (byResolution[resolution.value]) { return byResolution[resolution.value]; }
      for (var key in byResolution) { if (byResolution[key]) { return byResolution[key]; } }
      return null;
    };
    var currentBox = function () {
      if (domain.value === "custom") {
        var v = edges.map(function (input) { return parseFloat(input.value); });
        if (v.some(isNaN) || v[0] >= v[1] || v[2] >= v[3]) { return null; }
        return v;
      }
      return regionBox(domain.value);
    };
    var draw = function () {
      var box = currentBox();
      if (!box) { rect.setAttribute("display", "none"); return; }
      rect.removeAttribute("display");
      rect.setAttribute("x", box[0]);
      rect.setAttribute("y", box[2]);
      rect.setAttribute("width", box[1] - box[0]);
      rect.setAttribute("height", box[3] - box[2]);
    };
    var applyDomain = function (moveOff) {
      narrow(domain, function (o) {
        var byResolution = boxes[o.value];
        return !byResolution || Object.prototype.hasOwnProperty.call(byResolution, resolution.value);
      }, moveOff);
      var nestedOk = Object.keys(boxes).some(function (code) {
        return Object.prototype.hasOwnProperty.call(boxes[code], resolution.value);
      });
      // "custom" exists only where regions do (createRunDir.sh's domain menu).
      Array.prototype.forEach.call(domain.options, function (o) {
        if (o.value === "custom") { o.hidden = !nestedOk; o.disabled = !nestedOk; }
      });
      if (moveOff && domain.options[domain.selectedIndex].disabled) { domain.value = "global"; }
      custom.hidden = domain.value !== "custom" && !custom.querySelector(".has-error");
      draw();
    };

    var toLonLat = function (event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      var p = point.matrixTransform(frame.getScreenCTM().inverse());
      var clamp = function (x, lo, hi) { return Math.min(hi, Math.max(lo, x)); };
      return [clamp(Math.round(p.x * 2) / 2, -180, 180), clamp(Math.round(p.y * 2) / 2, -90, 90)];
    };
    var start = null;
    svg.addEventListener("pointerdown", function (event) {
      start = toLonLat(event);
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", function (event) {
      if (!start) { return; }
      var end = toLonLat(event);
      if (Math.abs(end[0] - start[0]) < 1 || Math.abs(end[1] - start[1]) < 1) { return; }
      var values = [Math.min(start[0], end[0]), Math.max(start[0], end[0]),
                    Math.min(start[1], end[1]), Math.max(start[1], end[1])];
      edges.forEach(function (input, i) { input.value = values[i]; });
      if (domain.querySelector('option[value="custom"]:not([disabled])')) { domain.value = "custom"; }
      custom.hidden = false;
      draw();
    });
    ["pointerup", "pointercancel"].forEach(function (name) {
      svg.addEventListener(name, function () { start = null; });
    });
    edges.forEach(function (input) { input.addEventListener("input", draw); });
    domain.addEventListener("change", function () { applyDomain(true); });
    resolution.addEventListener("change", function () { applyDomain(true); });
    applyDomain(false);
  }

  // --- 3. scientific configuration ---------------------------------------------------------
  if (step === "science") {
    var met = field("science-met");
    var scenarioRow = row("science-scenario");
    var applyMet = function () {
      if (scenarioRow && !scenarioRow.classList.contains("has-error")) { scenarioRow.hidden = met.value !== "ModelE2.1"; }
      Array.prototype.forEach.call(document.querySelectorAll("#date-rules li"), function (li) {
        li.classList.toggle("applies", li.getAttribute("data-met") === met.value);
      });
    };
    met.addEventListener("change", applyMet);
    applyMet();
    Array.prototype.forEach.call(form.querySelectorAll('select[name$="_frequency"]'), function (select) {
      var tr = select.closest("tr");
      var apply = function () { tr.classList.toggle("on", select.value !== ""); };
      select.addEventListener("change", apply);
      apply();
    });
  }

  // --- 4. compute resources ----------------------------------------------------------------
  if (step === "compute") {
    var instances = json("instance-data") || {};
    var instance = field("compute-instance_type");
    var cores = field("compute-cores_per_node");
    var facts = document.getElementById("instance-facts");
    var show = function (changed) {
      var it = instances[instance.value];
      facts.textContent = it ? instance.value + ": " + it.label + ", " + it.cores + " physical cores, " + it.memory +
        " GiB of memory" + (it.efa ? ", EFA networking" : "") + "." : "";
      if (changed && it && model === "classic" && (cores.value === "" || cores.getAttribute("data-filled"))) {
        cores.value = it.cores;  // one OpenMP thread per physical core
        cores.setAttribute("data-filled", "1");
      }
    };
    cores.addEventListener("input", function () { cores.removeAttribute("data-filled"); });
    instance.addEventListener("change", function () { show(true); });
    show(false);
  }

  // --- 6. review: copy the YAML ------------------------------------------------------------
  var copy = document.getElementById("copy-yaml");
  if (copy) {
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.getAttribute("data-target"));
      var status = document.getElementById("copy-status");
      var done = function () { status.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(done, function () { status.textContent = "Select the text and copy it."; });
      } else {
        text.focus();
        text.select();
        status.textContent = document.execCommand("copy") ? "Copied." : "Select the text and copy it.";
      }
    });
  }
}());
