// model-viewer reads its settings from this global before it loads: the Draco and
// meshopt decoders are served by the portal itself, never from a CDN.
self.ModelViewerElement = self.ModelViewerElement || {};
self.ModelViewerElement.dracoDecoderLocation = "/static/vendor/draco/";
self.ModelViewerElement.meshoptDecoderLocation = "/static/vendor/meshopt_decoder.js";

// The smallest level loads first; once it is on screen (drawn, not just fetched), a
// larger one replaces it where the screen and connection can take it. Swapping the
// source before the first level was drawn would hide it until the larger one arrives.
document.addEventListener("DOMContentLoaded", () => {
  for (const viewer of document.querySelectorAll("model-viewer[data-levels]")) {
    const levels = viewer.dataset.levels.split(" ");
    let shown = false;
    let loaded = false;
    const upgrade = () => {
      if (!shown || !loaded) return;
      const wide = window.matchMedia("(min-width: 800px)").matches;
      const saving = navigator.connection && navigator.connection.saveData;
      const next = wide && !saving ? levels[levels.length - 1] : levels[Math.min(1, levels.length - 1)];
      if (next && !viewer.src.endsWith(next) && navigator.onLine && !failed.has(next)) {
        loaded = false;
        shownSrc = viewer.src;
        viewer.src = next;
      }
    };
    let shownSrc = null;
    const failed = new Set();  // levels that could not be fetched: not asked for again on this page
    viewer.addEventListener("error", () => {
      // the larger level could not be fetched (signal lost, not in the offline guide's cache): the level
      // already drawn comes back instead of an empty viewer
      if (shownSrc && !viewer.src.endsWith(shownSrc)) {
        failed.add(viewer.src);
        const back = shownSrc;
        shownSrc = null;
        viewer.src = back;
      }
    });
    viewer.addEventListener("model-visibility", (event) => {
      if (event.detail && event.detail.visible) {
        shown = true;
        upgrade();
      }
    });
    viewer.addEventListener("load", () => {
      viewer.dataset.loaded = (parseInt(viewer.dataset.loaded || "0", 10) + 1).toString();
      loaded = true;
      if (viewer.modelIsVisible) shown = true;
      upgrade();
    });
  }
});
