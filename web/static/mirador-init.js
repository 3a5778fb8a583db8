// Opens the item's IIIF Presentation 3 manifest in Mirador (settings come from data attributes:
// the page has no inline script, as the portal's Content-Security-Policy requires).
(function () {
  "use strict";
  const el = document.getElementById("mirador");
  if (!el || !window.Mirador) return;
  const lang = el.dataset.lang === "en" ? "en" : "vi";
  window.heritageMirador = window.Mirador.viewer({
    id: "mirador",
    language: lang,
    windows: [{ manifestId: el.dataset.manifest, thumbnailNavigationPosition: "far-bottom" }],
    window: { allowClose: false, allowMaximize: false, allowFullscreen: true, sideBarOpenByDefault: false },
    workspace: { showZoomControls: true },
    workspaceControlPanel: { enabled: false },
  });
})();
