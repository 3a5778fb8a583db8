// The progress dashboard, updated live: polls the staff jobs endpoint every few seconds
// and redraws the items (with their pages) and the 3D builds (with their stages).
// Every text goes in through textContent, so titles, file names and reasons stay text.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  if (!root) return;
  const url = root.dataset.jobs;
  const csrf = root.dataset.csrf;
  const lang = root.dataset.lang;
  let pollMs = 1000 * (parseInt(root.dataset.poll, 10) || 3);
  const openDetails = new Set();
  document.querySelectorAll("#items details[open]").forEach((d) => openDetails.add(d.dataset.item));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "className") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }

  // the same rule as web.staff.duration_text
  function durationText(seconds, w) {
    if (seconds === null || seconds === undefined) return w.eta_unknown;
    const s = Math.max(0, Math.round(seconds));
    let text;
    if (s >= 3600) text = fill(w.u_hours, { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
    else if (s >= 60) text = fill(w.u_minutes, { m: Math.floor(s / 60), s: s % 60 });
    else text = fill(w.u_seconds, { s: s });
    return fill(w.eta_about, { t: text });
  }

  function actionForm(path, label, cls) {
    return el("form", { method: "post", action: path + "?lang=" + encodeURIComponent(lang), className: "inline" },
      el("input", { type: "hidden", name: "csrf_token", value: csrf }),
      el("button", { type: "submit", className: cls }, label));
  }

  function statusCell(text, status, reason) {
    return el("td", { className: "status " + status }, text,
      reason ? " — " : null, reason ? el("span", { className: "reason" }, reason) : null);
  }

  function itemRows(r, data) {
    const w = data.words;
    const c = r.counts;
    const counts = el("span", { className: "counts" },
      `${c.done}/${r.total} · ${c.running} ${w.running} · ${c.queued} ${w.queued}`);
    if (c.failed) counts.append(" · ", el("span", { className: "failed" }, `${c.failed} ${w.failed}`));
    if (c.cancelled) counts.append(" · ", el("span", { className: "cancelled" }, `${c.cancelled} ${w.cancelled}`));
    const actions = el("td", { className: "actions" });
    if (data.can.items && (c.failed || c.cancelled)) {
      actions.append(actionForm(`/staff/items/${r.item_id}/retry`, w.retry, "retry"));
    }
    if (data.can.items && c.queued) {
      actions.append(actionForm(`/staff/items/${r.item_id}/cancel`, w.job_cancel, "cancel"));
    }
    const open = c.queued + c.running;
    const row = el("tr", { id: `item-${r.item_id}`, className: "job", "data-status": r.status },
      el("td", {}, r.item_id),
      el("td", {}, el("a", { href: `/items/${r.item_id}?lang=${encodeURIComponent(lang)}` }, r.title)),
      statusCell(w[r.status] || r.status, r.status,
        r.status === "cancelled" ? fill(w.item_cancelled, { n: c.cancelled, total: r.total }) : r.reason),
      el("td", {}, el("progress", { max: r.total || 1, value: c.done }, `${c.done}/${r.total}`), " ", counts),
      el("td", { className: "eta", "data-label": w.eta }, open ? durationText(r.eta_s, w) : ""),
      actions);
    const rows = [row];
    if (r.pages && r.pages.length) {
      const body = el("tbody");
      for (const p of r.pages) {
        body.append(el("tr", { id: `page-${p.page_id}`, "data-status": p.status },
          el("td", {}, p.sequence), el("td", {}, p.source_name),
          statusCell(w[p.status] || p.status, p.status, p.status === "cancelled" ? null : p.reason),
          el("td", {}, p.attempts),
          el("td", {}, p.seconds === null ? "" : `${p.seconds.toFixed(1)} s`)));
      }
      const details = el("details", { "data-item": r.item_id, open: openDetails.has(String(r.item_id)) ? "" : null },
        el("summary", {}, `${w.page_by_page} (${r.pages.length})`),
        el("table", { className: "pages" },
          el("thead", {}, el("tr", {}, el("th", {}, w.pages), el("th", {}, w.dash_file), el("th", {}, w.status),
            el("th", {}, w.dash_attempts), el("th", {}, w.dash_seconds))),
          body));
      details.addEventListener("toggle", () => {
        if (details.open) openDetails.add(String(r.item_id));
        else openDetails.delete(String(r.item_id));
      });
      rows.push(el("tr", { className: "pages-row", id: `item-${r.item_id}-pages` }, el("td", { colspan: 6 }, details)));
    }
    return rows;
  }

  function buildRow(b, data) {
    const w = data.words;
    const word = (status) => (status === "running" ? w.build_running : w[status] || status);
    const stages = el("ol", { className: "stages" });
    for (const st of b.stages) {
      let text = `${w["stage_" + st.name] || st.name}: ${word(st.status)}`;
      if (st.fraction !== null) text += ` ${Math.round(st.fraction * 100)} %`;
      if (st.seconds !== null) text += ` (${st.seconds.toFixed(1)} s)`;
      stages.append(el("li", { className: st.status, "data-stage": st.name }, text));
    }
    const status = statusCell(word(b.status), b.status, b.reason);
    if (b.cancel_requested && b.status === "running") status.insertBefore(document.createTextNode(` (${w.stopping})`),
      status.childNodes[1] || null);
    const actions = el("td", { className: "actions" });
    if (data.can.builds && (b.status === "failed" || b.status === "cancelled")) {
      actions.append(actionForm(`/staff/builds/${b.version_id}/retry`, w.retry, "retry"));
    }
    if (data.can.builds && (b.status === "queued" || b.status === "running") && !b.cancel_requested) {
      actions.append(actionForm(`/staff/builds/${b.version_id}/cancel`, w.job_cancel, "cancel"));
    }
    const active = b.status === "queued" || b.status === "running";
    return el("tr", { id: `build-${b.version_id}`, className: "job", "data-status": b.status },
      el("td", {}, b.version_id),
      el("td", {}, el("a", { href: `/monuments/${encodeURIComponent(b.monument_slug)}?lang=${encodeURIComponent(lang)}` },
        b.monument_name), ` · ${b.model_title} (${w.dash_version} ${b.number})`),
      status, el("td", {}, stages),
      el("td", { className: "eta", "data-label": w.eta }, active ? durationText(b.eta_s, w) : ""),
      actions);
  }

  function render(data) {
    const w = data.words;
    const items = document.querySelector("#items tbody");
    const builds = document.querySelector("#builds tbody");
    const itemRowsAll = data.items.flatMap((r) => itemRows(r, data));
    items.replaceChildren(...(itemRowsAll.length ? itemRowsAll
      : [el("tr", { className: "empty" }, el("td", { colspan: 6 }, w.no_work))]));
    const buildRows = data.builds.map((b) => buildRow(b, data));
    builds.replaceChildren(...(buildRows.length ? buildRows
      : [el("tr", { className: "empty" }, el("td", { colspan: 6 }, w.no_builds))]));
    const rates = data.rates;
    document.getElementById("estimate-basis").textContent = rates.page_seconds === null ? w.estimate_none
      : fill(w.estimate_basis, { n: rates.page_samples, s: rates.page_seconds.toFixed(1), w: rates.workers });
    const when = new Date(data.generated_at).toLocaleTimeString(lang === "vi" ? "vi-VN" : "en-GB");
    const live = document.getElementById("live");
    live.textContent = fill(w.dash_updated, { t: when });
    live.dataset.updated = data.generated_at;
    root.dataset.busy = data.items.some((r) => r.counts.queued + r.counts.running > 0)
      || data.builds.some((b) => b.status === "queued" || b.status === "running") ? "1" : "0";
  }

  let offlineText = null;
  async function poll() {
    try {
      const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (resp.redirected || resp.status === 401 || resp.status === 403) {
        window.location.reload(); // signed out meanwhile: the page sends to the sign-in form
        return;
      }
      if (!resp.ok) throw new Error(String(resp.status));
      const data = await resp.json();
      offlineText = data.words.dash_offline;
      pollMs = 1000 * (data.poll_s || 3);
      render(data);
    } catch (err) {
      if (offlineText) document.getElementById("live").textContent = offlineText;
    }
    // poll often while work is open, less often when everything is quiet
    setTimeout(poll, root.dataset.busy === "0" ? pollMs * 2 : pollMs);
  }
  poll();
})();
