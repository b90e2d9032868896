// The field app's service worker, served at /field/sw.js with scope /field/. The server
// puts a hash of all assets into the cache name below, so every change of an asset
// installs a new shell cache. Reference data lives in a cache of its own, kept across
// versions, so an update never takes the offline data away. POSTs are never touched.

const SHELL = "aidflow-field-shell-__ASSET_VERSION__";
const DATA = "aidflow-field-data";
const PAGE = "/field/";
const ASSETS = ["/static/app.css", "/static/field.css", "/static/field.js"];
const API = /^\/api\/v1\/(routes|checkpoints|commodities|organizations|convoys)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    // The assets must all be there, or this version does not install (the old one stays).
    await Promise.all(ASSETS.map(async (url) => {
      const r = await fetch(new Request(url, { cache: "reload" }));
      if (!r.ok) throw new Error(`${url}: ${r.status}`);
      await cache.put(url, r);
    }));
    // The page needs a live session; without one, keep the copy an older version had.
    try {
      const r = await fetch(new Request(PAGE, { cache: "reload", credentials: "same-origin" }));
      if (r.ok && !r.redirected) await cache.put(PAGE, r);
      else throw new Error("no page");
    } catch {
      const old = await caches.match(PAGE, { ignoreSearch: true });
      if (old) await cache.put(PAGE, old);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("aidflow-field-shell-") && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE) event.respondWith(networkFirst(event, SHELL, 4000, PAGE));
  else if (url.pathname.startsWith("/static/")) event.respondWith(cacheFirst(event));
  else if (API.test(url.pathname)) event.respondWith(networkFirst(event, DATA, 6000));
});

/** Whether a response may be kept: a real answer of this origin, not an error or redirect. */
const keepable = (r) => r.ok && r.type === "basic" && !r.redirected;

/** The network's answer (cached for later), or the cached one when the network fails or is
 *  slower than `ms`; the late answer still refreshes the cache. */
async function networkFirst(event, name, ms, fallback) {
  const req = event.request;
  const cache = await caches.open(name);
  const net = fetch(req).then(async (r) => {
    if (keepable(r)) await cache.put(fallback || req, r.clone());
    return r;
  });
  event.waitUntil(net.then(() => {}, () => {}));
  let timer;
  const slow = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("slow")), ms); });
  try {
    return await Promise.race([net, slow]);
  } catch {
    const hit = await cache.match(fallback || req, { ignoreSearch: !!fallback });
    if (hit) return hit;
    try { return await net; } catch { return Response.error(); }
  } finally {
    clearTimeout(timer);
  }
}

/** The cached asset at once, refreshed from the network behind it. */
async function cacheFirst(event) {
  const req = event.request;
  const cache = await caches.open(SHELL);
  const hit = await cache.match(req, { ignoreSearch: true });
  const net = fetch(req).then(async (r) => {
    if (keepable(r)) await cache.put(new URL(req.url).pathname, r.clone());
    return r;
  });
  if (hit) {
    event.waitUntil(net.then(() => {}, () => {}));
    return hit;
  }
  try { return await net; } catch { return Response.error(); }
}
