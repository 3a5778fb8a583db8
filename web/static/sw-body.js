// The monument guide's service worker (served as /sw.js by web/offline.py, SETTINGS in front of this).
// Scope: the monument pages. What it keeps, in one cache named after the deployment:
//   - when it installs: the scripts, styles, fonts and model-viewer's decoders those pages need;
//   - a monument page, each time it is opened with signal (network first, the saved copy without signal),
//     and the other files it loads (fonts, …);
//   - the model levels, poster and pages a monument page asks for ({type: "keep"} from offline.js).
// Model files never change under their URL (/models/<version>/<file>): served from the cache first.
// Nothing else is kept, and no page sent with Cache-Control no-store (a signed-in user's) ever is.
"use strict";

const CACHE = `heritage-guide-${SETTINGS.version}`;
const INDEX = "/__saved-guides__";  // the saved pages' titles, for the page shown offline
const NETWORK_WAIT_MS = 4000;  // poor signal: after this long the saved page is shown instead

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SETTINGS.precache)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const old = (await caches.keys()).filter((name) => name.startsWith("heritage-guide-") && name !== CACHE);
    await Promise.all(old.map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

const keepable = (resp) => resp && resp.status === 200 && resp.type === "basic"
  && !/no-store/i.test(resp.headers.get("Cache-Control") || "");

async function remember(url, title) {
  const cache = await caches.open(CACHE);
  const resp = await cache.match(INDEX);
  const saved = resp ? await resp.json() : {};
  saved[url] = title;
  await cache.put(INDEX, new Response(JSON.stringify(saved), { headers: { "Content-Type": "application/json" } }));
}

async function keep(urls, page, title) {
  const cache = await caches.open(CACHE);
  for (const url of urls) {
    if (await cache.match(url)) continue;
    const resp = await fetch(url, { credentials: "same-origin" });
    if (!keepable(resp)) throw new Error(`${url}: ${resp.status}`);
    await cache.put(url, resp);
  }
  if (page) await remember(page, title || page);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep") return;
  const origin = self.location.origin;
  const urls = (data.urls || []).map((u) => new URL(u, origin)).filter((u) => u.origin === origin).map((u) => u.href);
  const reply = (body) => event.source && event.source.postMessage(body);
  event.waitUntil(keep(urls, data.page, data.title).then(() => reply({ type: "kept", urls: urls.length }),
    (err) => reply({ type: "keep-failed", reason: String(err) })));
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function missingPage(request) {
  const lang = new URL(request.url).searchParams.get("lang") === "en" ? "en" : "vi";
  const t = SETTINGS.texts[lang];
  const cache = await caches.open(CACHE);
  const resp = await cache.match(INDEX);
  const saved = resp ? await resp.json() : {};
  const links = Object.entries(saved).map(([url, title]) => `<li><a href="${escape(url)}">${escape(title)}</a></li>`).join("");
  const css = SETTINGS.precache.find((u) => u.endsWith("/site.css"));
  const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">`
    + `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(t.site)}</title>`
    + (css ? `<link rel="stylesheet" href="${css}">` : "") + `</head><body><main><h1>${escape(t.site)}</h1>`
    + `<p class="notice" id="offline-missing">${escape(t.off_missing)}</p>`
    + (links ? `<p>${escape(t.off_saved_list)}</p><ul id="saved-guides">${links}</ul>` : "") + "</main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function page(event) {
  const cache = await caches.open(CACHE);
  const fromNetwork = fetch(event.request).then(async (resp) => {
    if (keepable(resp)) await cache.put(event.request, resp.clone());
    return resp;
  });
  fromNetwork.catch(() => {});  // answered from the cache below: the failure is not an error of its own
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, null));
  try {
    const resp = await Promise.race([fromNetwork, timeout]);
    if (resp) return resp;
    const saved = await cache.match(event.request);
    return saved || await fromNetwork;  // nothing saved: keep waiting for the network
  } catch (err) {
    return (await cache.match(event.request)) || missingPage(event.request);
  }
}

async function savedFirst(event) {
  const cache = await caches.open(CACHE);
  const saved = await cache.match(event.request);
  if (saved) return saved;
  const resp = await fetch(event.request);
  if (keepable(resp) && new URL(event.request.url).pathname.startsWith("/models/")) await cache.put(event.request, resp.clone());
  return resp;
}

async function networkFirst(event) {  // the fonts and any other file a monument page loads
  try {
    const resp = await fetch(event.request);
    if (keepable(resp)) {
      const copy = resp.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(event.request, copy)));
    }
    return resp;
  } catch (err) {
    const saved = await caches.match(event.request, { cacheName: CACHE });
    if (saved) return saved;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname.startsWith(SETTINGS.scope)) event.respondWith(page(event));
    return;
  }
  if (url.pathname.startsWith("/models/") || SETTINGS.precache.includes(url.pathname)) {
    event.respondWith(savedFirst(event));
    return;
  }
  if (url.pathname.startsWith("/static/")) event.respondWith(networkFirst(event));
});
