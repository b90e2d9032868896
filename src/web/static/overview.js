// Keeps the corridor overview current without a reload: every few seconds (the
// data-refresh-seconds of #live) it fetches /overview/live and swaps the figures in.
// Without JavaScript the page is the same, as of when it was loaded.
const live = document.getElementById("live");
if (live) {
  const seconds = Math.max(2, Number(live.dataset.refreshSeconds) || 5);
  let busy = false;
  const refresh = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(live.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (res.redirected || res.status === 401) {
        window.location.assign("/sign-in?next=/");
        return;
      }
      if (res.ok) {
        const html = await res.text();
        const next = document.createElement("div");
        next.innerHTML = html;
        // Only replace what changed, so that focus and scrolling stay where they are.
        if (next.innerHTML !== live.innerHTML) live.replaceChildren(...next.childNodes);
      }
    } catch (_) {
      // Offline or the server restarting: try again at the next tick.
    } finally {
      busy = false;
    }
  };
  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
}
