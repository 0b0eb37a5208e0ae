// Routes are real paths (/login, /, /exercises/<id>, /history, /tutor) kept with the history
// API: a reload or a shared link asks the server for that path, and the server answers every
// app path with this same page (rest/web.py). Links stay plain <a href>: a click is taken
// over here, so they still open in a new tab with a modifier key or the middle button.

/** @type {() => void} */
let onChange = () => {};

/** The app's path now; an old fragment link (/#/history) becomes its path. */
export function currentPath() {
  if (location.hash.startsWith("#/")) {
    history.replaceState(null, "", location.hash.slice(1));
  }
  return location.pathname;
}

/** @param {string} path @param {{replace?: boolean}} [options] */
export function go(path, { replace = false } = {}) {
  if (path !== location.pathname) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
  }
  onChange();
}

/** @param {() => void} handler called on every navigation (links, back and forward) */
export function startRouter(handler) {
  onChange = handler;
  window.addEventListener("popstate", () => onChange());
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href);
    // Only the app's own pages: /docs, the API and other sites load as usual.
    if (url.origin !== location.origin || link.target || link.hasAttribute("download")) return;
    if (url.pathname.startsWith("/docs") || url.pathname.startsWith("/v1/")) return;
    // A link within this page (#section) scrolls as usual.
    if (url.pathname === location.pathname && url.hash) return;
    event.preventDefault();
    go(url.pathname);
  });
  onChange();
}
