// model-viewer reads its settings from this global before it loads: the Draco and
// meshopt decoders are served by the portal itself, never from a CDN.
self.ModelViewerElement = self.ModelViewerElement || {};
self.ModelViewerElement.dracoDecoderLocation = "/static/vendor/draco/";
self.ModelViewerElement.meshoptDecoderLocation = "/static/vendor/meshopt_decoder.js";

// The viewer starts when asked for: model-viewer (a megabyte of script, and a WebGL context) is loaded
// only when the visitor presses "View in 3D" under the model's picture, or a tour or walk needs the
// camera; at once on a wide screen (not saving data) and for a visitor who has started one before on
// this device. Until then the page is its picture, text, points of interest and tours as text.
const HeritageViewer = (() => {
  const script = document.currentScript;
  const moduleUrl = script && script.dataset.module;
  const REMEMBER = "heritage.viewer3d";
  let defining = null;
  let attempts = 0;

  function define() {
    if (window.customElements && customElements.get("model-viewer")) return Promise.resolve();
    if (!moduleUrl || !window.customElements) return Promise.reject(new Error("no 3D viewer on this page"));
    if (!defining) {
      defining = new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        tag.type = "module";
        // the HTML standard has a document remember a module that failed to load under its URL (Chromium
        // fetches it again, others need not): a new try asks under another URL
        tag.src = attempts++ ? `${moduleUrl}?try=${attempts}` : moduleUrl;
        tag.onerror = () => { defining = null; tag.remove(); reject(new Error(`${moduleUrl} could not be loaded`)); };
        document.head.appendChild(tag);
        customElements.whenDefined("model-viewer").then(resolve);
      });
    }
    return defining;
  }

  // What the viewer will ask for once its script runs — the first level and the decoder its codec needs
  // (data-decoder) — fetched beside that script rather than after it: on a slow link the round trips of
  // three requests one after another cost as much as the bytes.
  // (model-viewer itself adds the meshopt decoder's script tag as it starts, whatever the model: the
  // browser fetches that one as early as it can.)
  const preloaded = new Set();
  function preload(viewer) {
    const urls = [viewer.getAttribute("src")];
    if (viewer.dataset.decoder === "draco") {
      urls.push(`${self.ModelViewerElement.dracoDecoderLocation}draco_wasm_wrapper.js`,
                `${self.ModelViewerElement.dracoDecoderLocation}draco_decoder.wasm`);
    }
    for (const url of urls) {
      if (!url || preloaded.has(url)) continue;
      preloaded.add(url);
      const link = document.createElement("link");
      link.rel = "preload";
      link.as = "fetch";
      link.crossOrigin = "anonymous";  // the mode and credentials of three.js's fetch, so the answer is reused
      link.href = url;
      document.head.appendChild(link);
    }
  }

  function start(viewer) {
    const figure = viewer.closest("figure.model") || viewer;
    const button = figure.querySelector(".model-start");
    figure.dataset.started = "";
    preload(viewer);
    try { localStorage.setItem(REMEMBER, "on"); } catch (e) { /* private mode: not remembered */ }
    return define().then(() => {
      if (button) delete button.dataset.state;
    }, (err) => {
      delete figure.dataset.started;  // the button comes back, saying so, to try again
      if (button) {
        button.dataset.state = "failed";
        button.textContent = button.dataset.failed;
      }
      throw err;
    });
  }

  function wanted() {
    let remembered = false;
    try { remembered = localStorage.getItem(REMEMBER) === "on"; } catch (e) { /* no storage */ }
    const saving = navigator.connection && navigator.connection.saveData;
    return remembered || (window.matchMedia("(min-width: 800px)").matches && !saving);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const viewers = document.querySelectorAll("model-viewer[data-levels]");
    for (const viewer of viewers) {
      const button = viewer.closest("figure.model") && viewer.closest("figure.model").querySelector(".model-start");
      if (button) button.addEventListener("click", () => start(viewer).then(() => viewer.focus(), () => {}));
    }
    if (viewers.length && wanted()) viewers.forEach((viewer) => start(viewer).catch(() => {}));
  });
  return { start };
})();
self.HeritageViewer = HeritageViewer;

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
