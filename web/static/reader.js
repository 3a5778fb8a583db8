// The reader: one page at a time (two facing pages on a wide screen). Deep zoom of the page over the portal's IIIF Image API with the
// matches of a search inside the item boxed (#hit-k zooms to match k), previous/next by the keys ← →
// and by a swipe, the page slider, the text shown or hidden (remembered). An item being read shows its
// progress through progress.js.
(function () {
  "use strict";
  const root = document.getElementById("reader");
  if (!root) return;
  const link = (rel) => document.querySelector(`#turn-top a[rel="${rel}"]`);
  const go = (rel) => { const a = link(rel); if (a) window.location.href = a.href; };

  // ---- two facing pages on a wide screen (2 | 3, 4 | 5 …; page 1 alone), unless the reader chose one
  const zoom = document.getElementById("zoom");
  const spreadToggle = document.getElementById("spread-toggle");
  const wide = window.matchMedia("(min-width: 62rem)").matches;
  let chosen = null;
  try { chosen = window.localStorage.getItem("reader-spread"); } catch (e) { chosen = null; }
  const facing = zoom && zoom.dataset.facingInfo && wide ? {
    info: zoom.dataset.facingInfo, side: zoom.dataset.facingSide, sequence: Number(zoom.dataset.facingSequence),
  } : null;
  const two = facing !== null && chosen !== "one";
  if (facing && spreadToggle) {
    spreadToggle.hidden = false;
    spreadToggle.setAttribute("aria-pressed", String(two));
    spreadToggle.addEventListener("click", () => {
      try { window.localStorage.setItem("reader-spread", two ? "one" : "two"); } catch (e) { /* private mode */ }
      window.location.reload();
    });
  }
  root.classList.toggle("spread", two);
  if (two) {  // the pages before and after the spread, not the facing page itself
    const n = Number(root.dataset.sequence), total = Number(root.dataset.total);
    const left = Math.min(n, facing.sequence), right = Math.max(n, facing.sequence);
    for (const a of document.querySelectorAll('.turn a[rel="prev"], .turn a[rel="next"]')) {
      const to = a.rel === "prev" ? left - 1 : right + 1;
      if (to < 1 || to > total) a.remove();
      else a.href = a.href.replace(/\/pages\/\d+/, `/pages/${to}`);
    }
    for (const where of document.querySelectorAll(".turn .where")) where.textContent = zoom.dataset.facingWhere;
    zoom.setAttribute("aria-label", zoom.dataset.facingLabel);
  }

  // ---- the page image and the boxes of the matches on it
  let viewer = null;
  if (zoom && window.OpenSeadragon) {
    const gap = 0.02;  // the fold, in page widths
    // the page carries its info.json (no round trip before the first tiles); the URL when it does not
    const info = (id, url) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : url; };
    const own = info("zoom-info", zoom.dataset.info);
    const sources = two
      ? [{ tileSource: own, x: facing.side === "right" ? 0 : 1 + gap, width: 1 },
         { tileSource: info("zoom-facing-info", facing.info), x: facing.side === "right" ? 1 + gap : 0, width: 1 }]
      : own;
    viewer = OpenSeadragon({
      element: zoom, tileSources: sources, prefixUrl: "/static/vendor/openseadragon/images/",
      showNavigator: false, gestureSettingsTouch: { pinchRotate: false }, visibilityRatio: 1,
      // the canvas drawer: a page of text needs no WebGL, whose context and shaders cost a phone's first
      // view most of its script time (Lighthouse: 65 -> 91-96 with WebGL off, first image 2.56 -> 2.13 s)
      drawer: "canvas",
    });
    const boxesEl = document.getElementById("hit-boxes");
    const boxes = boxesEl ? JSON.parse(boxesEl.textContent) : [];
    const rects = [];
    const focusHit = () => {
      const m = /^#hit-(\d+)$/.exec(window.location.hash);
      const k = m ? Number(m[1]) : 0;
      for (const el of document.querySelectorAll(".hit-overlay.current")) el.classList.remove("current");
      if (!k || !rects[k - 1]) return;
      const r = rects[k - 1];
      document.getElementById(`hit-box-${k}`).classList.add("current");
      const pad = Math.max(r.width, r.height) * 4;
      viewer.viewport.fitBounds(new OpenSeadragon.Rect(r.x - pad, r.y - pad, r.width + 2 * pad, r.height + 2 * pad));
    };
    viewer.addOnceHandler("open", () => {
      root.dataset.images = String(viewer.world.getItemCount());
      const page = viewer.world.getItemAt(0);  // this page (the facing one, if shown, is the second)
      boxes.forEach(([x, y, w, h], i) => {
        const box = document.createElement("div");
        box.className = "hit-overlay";
        box.id = `hit-box-${i + 1}`;
        const rect = page.imageToViewportRectangle(x, y, w, h);
        rects.push(rect);
        viewer.addOverlay(box, rect);
      });
      root.dataset.boxes = String(boxes.length);
      focusHit();
    });
    window.addEventListener("hashchange", focusHit);
  }

  // ---- keys and swipes turn the page
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select", "button"].includes(tag) || event.target.isContentEditable) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); go("prev"); }
    if (event.key === "ArrowRight") { event.preventDefault(); go("next"); }
  });
  let start = null;
  const view = document.getElementById("reader-view");
  view.addEventListener("touchstart", (event) => {
    start = event.touches.length === 1 ? [event.touches[0].clientX, event.touches[0].clientY] : null;
  }, { passive: true });
  view.addEventListener("touchend", (event) => {
    if (!start || event.changedTouches.length !== 1) return;
    const dx = event.changedTouches[0].clientX - start[0];
    const dy = event.changedTouches[0].clientY - start[1];
    start = null;
    if (Math.abs(dx) < 60 || Math.abs(dx) < 2 * Math.abs(dy)) return;
    // on the image a drag pans it once it is zoomed in: only a page seen whole turns
    if (viewer && zoom.contains(event.target) && viewer.viewport.getZoom() > viewer.viewport.getHomeZoom() * 1.05) return;
    go(dx < 0 ? "next" : "prev");
  });

  // ---- the page slider moves the number and goes there when let go
  const slider = document.getElementById("page-slider");
  const number = document.getElementById("page-number");
  if (slider && number) {
    slider.addEventListener("input", () => { number.value = slider.value; });
    slider.addEventListener("change", () => { number.value = slider.value; number.form.submit(); });
  }

  // ---- the text beside (or under) the image, shown or hidden
  const toggle = document.getElementById("text-toggle");
  const body = document.getElementById("page-text-body");
  const setShown = (shown) => {
    body.hidden = !shown;
    toggle.setAttribute("aria-expanded", String(shown));
    toggle.textContent = shown ? toggle.dataset.hide : toggle.dataset.show;
    root.classList.toggle("text-hidden", !shown);
  };
  let stored = null;
  try { stored = window.localStorage.getItem("reader-text"); } catch (e) { stored = null; }
  setShown(stored !== "hidden");
  toggle.addEventListener("click", () => {
    const shown = body.hidden;
    setShown(shown);
    try { window.localStorage.setItem("reader-text", shown ? "shown" : "hidden"); } catch (e) { /* private mode */ }
  });

  // ---- the Sino-Vietnamese reading above each Hán character, shown or hidden (remembered on the device)
  const readings = document.getElementById("readings-toggle");
  const han = document.getElementById("page-text-pre");
  if (readings && han) {
    const setReadings = (shown) => {
      han.classList.toggle("readings-off", !shown);
      readings.setAttribute("aria-pressed", String(shown));
      readings.textContent = shown ? readings.dataset.hide : readings.dataset.show;
    };
    let kept = null;
    try { kept = window.localStorage.getItem("reader-readings"); } catch (e) { kept = null; }
    setReadings(kept !== "hidden");
    readings.addEventListener("click", () => {
      const shown = han.classList.contains("readings-off");
      setReadings(shown);
      try { window.localStorage.setItem("reader-readings", shown ? "shown" : "hidden"); } catch (e) { /* private mode */ }
    });
  }
})();
