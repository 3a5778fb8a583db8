// Deep zoom of every page over the portal's own IIIF Image API, and search inside
// the item (IIIF Content Search 2.0) with every hit boxed on its page.
(function () {
  const viewers = {};
  for (const el of document.querySelectorAll(".deepzoom")) {
    viewers[el.dataset.sequence] = OpenSeadragon({
      element: el,
      tileSources: el.dataset.info,
      prefixUrl: "/static/vendor/openseadragon/images/",
      showNavigator: false,
      gestureSettingsTouch: { pinchRotate: false },
    });
  }
  const form = document.getElementById("search-within");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const v of Object.values(viewers)) v.clearOverlays();
    const q = form.elements.q.value.trim();
    const count = document.getElementById("within-count");
    if (!q) { count.textContent = ""; return; }
    const resp = await fetch(`/iiif/${form.dataset.item}/search?q=${encodeURIComponent(q)}`);
    if (!resp.ok) { count.textContent = (await resp.json()).message || resp.statusText; return; }
    const page = await resp.json();
    let shown = 0;
    const elsewhere = new Set();  // hits on pages outside this window of pages: each opens in the reader
    for (const anno of page.items || []) {
      const [canvas, fragment] = anno.target.split("#xywh=");
      const sequence = canvas.split("/canvas/p").pop();
      const viewer = viewers[sequence];
      if (!viewer && /^\d+$/.test(sequence)) elsewhere.add(Number(sequence));
      if (!viewer || !fragment) continue;
      const [x, y, w, h] = fragment.split(",").map(Number);
      const box = document.createElement("div");
      box.className = "hit-overlay";
      const place = () => viewer.addOverlay(box, viewer.viewport.imageToViewportRectangle(x, y, w, h));
      if (viewer.world.getItemCount()) place(); else viewer.addOnceHandler("open", place);
      shown += 1;
    }
    count.textContent = `${shown}`;
    count.dataset.hits = String(shown);
    if (elsewhere.size) {  // the other pages with hits, each a link into its own window
      count.append(" · ");
      for (const n of [...elsewhere].sort((a, b) => a - b).slice(0, 50)) {
        const link = document.createElement("a");
        link.href = `/items/${form.dataset.item}/pages/${n}?q=${encodeURIComponent(q)}`;
        link.textContent = `p. ${n}`;
        count.append(link, " ");
      }
    }
  });
})();
