// A tiny history-API router: the current path as a hook, navigate(), and link click handling.
import { useEffect, useState } from "preact/hooks";

type Listener = () => void;
const listeners = new Set<Listener>();

/** Goes to an in-app path without reloading. */
export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

addEventListener("popstate", () => {
  for (const l of listeners) l();
});

/** Re-renders on navigation; returns the current URL. */
export function useLocation(): URL {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return new URL(location.href);
}

/** Matches "/tenants/:id/:tab?" style patterns; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < Math.max(p.length, s.length); i++) {
    const part = p[i];
    if (part === undefined) return null;
    const optional = part.endsWith("?");
    if (part.startsWith(":")) {
      if (s[i] === undefined) {
        if (optional) continue;
        return null;
      }
      params[part.slice(1).replace(/\?$/, "")] = decodeURIComponent(s[i]);
    } else if (part !== s[i]) return null;
  }
  return params;
}

/** onClick for <a href>: same-origin left clicks navigate in-app. */
export function onLinkClick(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? "/");
}
