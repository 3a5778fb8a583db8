// The monument page asks the service worker (/sw.js, scope /monuments) to keep this page, its model's
// smallest and mobile levels and its poster, so the guide opens on site without signal; the status line
// says when it is saved, and when the page shown is the saved copy.
(function () {
  "use strict";
  const status = document.getElementById("offline-status");
  if (!status || !("serviceWorker" in navigator)) return;
  const say = (key) => { status.textContent = status.dataset[key]; status.dataset.state = key; };
  const urls = [window.location.href];
  for (const viewer of document.querySelectorAll("model-viewer[data-levels]")) {
    const levels = viewer.dataset.levels.split(" ");
    urls.push(...levels.slice(0, 2));  // the smallest and the mobile level (the viewer's choice on a phone)
    const poster = viewer.querySelector("img.model-poster");
    if (poster) urls.push(poster.src);
  }
  if (!navigator.onLine) say("offline");
  window.addEventListener("offline", () => say("offline"));
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (!event.data) return;
    if (event.data.type === "kept") say(navigator.onLine ? "ready" : "offline");
    else if (event.data.type === "keep-failed" && navigator.onLine) say("failed");
  });
  const register = () => navigator.serviceWorker.register(status.dataset.worker, { scope: status.dataset.scope }).then(() => {
    if (navigator.onLine) say("saving");
    return navigator.serviceWorker.ready;
  }).then((registration) => {
    registration.active.postMessage({ type: "keep", urls, page: window.location.href, title: document.title });
  }).catch(() => { if (navigator.onLine) say("failed"); });
  // after the page has loaded: the worker's own downloads never compete with the page's first model
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
})();
