// model-viewer reads its settings from this global before it loads: the Draco and
// meshopt decoders are served by the portal itself, never from a CDN.
self.ModelViewerElement = self.ModelViewerElement || {};
self.ModelViewerElement.dracoDecoderLocation = "/static/vendor/draco/";
self.ModelViewerElement.meshoptDecoderLocation = "/static/vendor/meshopt_decoder.js";

// The smallest level loads first; once it is on screen, a larger one replaces it
// where the screen and connection can take it.
document.addEventListener("DOMContentLoaded", () => {
  for (const viewer of document.querySelectorAll("model-viewer[data-levels]")) {
    const levels = viewer.dataset.levels.split(" ");
    viewer.addEventListener("load", function upgrade() {
      viewer.dataset.loaded = (parseInt(viewer.dataset.loaded || "0", 10) + 1).toString();
      const wide = window.matchMedia("(min-width: 800px)").matches;
      const saving = navigator.connection && navigator.connection.saveData;
      const next = wide && !saving ? levels[levels.length - 1] : levels[Math.min(1, levels.length - 1)];
      if (next && !viewer.src.endsWith(next)) {
        viewer.src = next;
      } else {
        viewer.removeEventListener("load", upgrade);
      }
    });
  }
});
