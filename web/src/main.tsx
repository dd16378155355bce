/** @jsxImportSource preact */
// Entry of the dashboard: the shell (header, navigation, sign-out) and the page routes.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, session, setUnauthorizedHandler } from "./api.ts";
import { match, navigate, useLocation } from "./router.ts";
import { Link } from "./components/ui.tsx";
import { LoginPage } from "./pages/login.tsx";
import { TenantsPage } from "./pages/tenants.tsx";
import { CreateTenantPage } from "./pages/tenant-create.tsx";
import { TenantPage } from "./pages/tenant/index.tsx";
import { AccountPage } from "./pages/account.tsx";
import { ApiKeysPage } from "./pages/api-keys.tsx";
import { RegistriesPage } from "./pages/registries.tsx";
import { GithubPage } from "./pages/github.tsx";
import { WebhooksPage } from "./pages/webhooks.tsx";
import { NodesPage } from "./pages/nodes.tsx";
import "./styles.css";

setUnauthorizedHandler(() => {
  session.clear();
  navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true);
});

const NAV: [string, string][] = [
  ["/tenants", "Tenants"],
  ["/api-keys", "API keys"],
  ["/registries", "Registries"],
  ["/github", "GitHub"],
  ["/webhooks", "Webhooks"],
  ["/nodes", "Nodes"],
  ["/account", "Account"],
];

function signOut() {
  // Best effort: the server may forget the session; the token leaves this browser either way.
  if (!session.isApiKey) void api("POST", "/auth/logout").catch(() => {});
  session.clear();
  navigate("/login");
}

function Shell(props: { path: string; children: preact.ComponentChildren }) {
  // Under 640 px the links fold behind a Menu button (CSS shows them when open); a navigation or Escape closes it.
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [props.path]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [open]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class={`top${open ? " menu-open" : ""}`}>
        <Link href="/tenants" class="brand">
          Staxa
        </Link>
        <button
          type="button"
          class="btn plain menu-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen(!open)}
        >
          <span aria-hidden="true">☰</span> Menu
        </button>
        <nav aria-label="Main" id="main-nav">
          {NAV.map(([href, label]) => (
            <Link href={href} aria-current={props.path.startsWith(href) ? "page" : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div class="who">
          {session.isApiKey ? (
            <span class="badge neutral" title="Signed in with an API key">
              API key
            </span>
          ) : (
            <label class="mode">
              <span class="sr-only">Mode</span>
              <select
                aria-label="Mode"
                value={session.mode}
                onChange={(e) => {
                  session.setMode((e.currentTarget as HTMLSelectElement).value as "live" | "test");
                  location.reload();
                }}
              >
                <option value="live">live</option>
                <option value="test">test</option>
              </select>
            </label>
          )}
          <button type="button" class="btn plain" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

function App() {
  const url = useLocation();
  const path = url.pathname;
  if (path === "/login" || !session.token) {
    if (path !== "/login") queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(path)}`, true));
    return (
      <main id="main">
        <LoginPage next={url.searchParams.get("next")} />
      </main>
    );
  }
  let page: preact.ComponentChildren;
  let p: Record<string, string> | null;
  if (path === "/" || path === "/tenants") page = <TenantsPage />;
  else if (path === "/tenants/new") page = <CreateTenantPage />;
  else if ((p = match("/tenants/:id/:tab?", path))) page = <TenantPage id={p.id} tab={p.tab ?? "overview"} />;
  else if (path === "/account") page = <AccountPage />;
  else if (path === "/api-keys") page = <ApiKeysPage />;
  else if (path === "/registries") page = <RegistriesPage />;
  else if (path === "/github") page = <GithubPage />;
  else if (path === "/webhooks") page = <WebhooksPage />;
  else if (path === "/nodes") page = <NodesPage />;
  else
    page = (
      <section>
        <h1>Page not found</h1>
        <p>
          There is no page at {path}. <Link href="/tenants">Go to tenants</Link>.
        </p>
      </section>
    );
  return <Shell path={path === "/" ? "/tenants" : path}>{page}</Shell>;
}

render(<App />, document.getElementById("app")!);
