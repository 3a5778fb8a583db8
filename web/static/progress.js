// An item being read: its progress polled from /api/v1/items/<id>/progress every 3 s into the
// #reading-progress bar (the item page and the reader) or into its row of the home page's recent items
// (tr.item-progress); a page is never reloaded by itself — once the item is finished a link shows the result.
(function () {
  "use strict";
  for (const row of document.querySelectorAll("tr.item-progress[data-item]")) {
    const bar = row.querySelector("progress"), counts = row.querySelector(".counts");
    const cell = row.querySelector("[data-status-text]");
    const names = Object.fromEntries(cell.dataset.statusText.split("|").map((pair) => pair.split("=")));
    const poll = async () => {
      let body;
      try {
        const resp = await fetch(`/api/v1/items/${row.dataset.item}/progress`, { headers: { Accept: "application/json" } });
        if (!resp.ok) return;
        body = await resp.json();
      } catch (e) { window.setTimeout(poll, 10000); return; }
      bar.max = Math.max(1, body.total);
      bar.value = body.done;
      const failed = body.pages.failed || 0;
      counts.textContent = `${body.done}/${body.total}` + (failed ? ` (${failed} ${row.dataset.failedText})` : "");
      cell.className = body.status;
      cell.textContent = names[body.status] || body.status;
      row.dataset.status = body.status;
      if (body.status === "processing") window.setTimeout(poll, 3000);
    };
    window.setTimeout(poll, 1000);
  }
})();

(function () {
  "use strict";
  const progress = document.getElementById("reading-progress");
  if (!progress) return;
  const bar = progress.querySelector("progress");
  const label = progress.querySelector("span");
  const poll = async () => {
    let body;
    try {
      const resp = await fetch(`/api/v1/items/${progress.dataset.item}/progress`, { headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      body = await resp.json();
    } catch (e) { window.setTimeout(poll, 10000); return; }
    bar.max = Math.max(1, body.total);
    bar.value = body.done;
    label.textContent = progress.dataset.text.replace("{done}", body.done).replace("{total}", body.total);
    if (body.status === "processing") { window.setTimeout(poll, 3000); return; }
    const failed = body.pages.failed || 0;
    label.textContent = progress.dataset.doneText + (failed ? " " + progress.dataset.failedText.replace("{n}", failed) : "");
    const again = document.createElement("a");
    again.href = window.location.href;
    again.textContent = progress.dataset.resultText;
    again.id = "show-result";
    label.append(" ", again);
  };
  poll();
})();
