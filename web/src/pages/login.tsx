/** @jsxImportSource preact */
// Sign in: first-run setup with the one-time token, the built-in login, or an API key.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, session } from "../api.ts";
import { navigate } from "../router.ts";
import { useAction } from "../hooks.ts";
import { Button, ErrorNote, Field } from "../components/ui.tsx";

type View = "checking" | "setup" | "login" | "key";

function done(next: string | null) {
  navigate(next && next.startsWith("/") && !next.startsWith("//") && next !== "/login" ? next : "/tenants", true);
}

export function LoginPage(props: { next: string | null }) {
  const [view, setView] = useState<View>("checking");
  useEffect(() => {
    api<{ setup_required: boolean }>("GET", "/auth/status", undefined, { anonymous: true }).then(
      (r) => setView(r.data?.setup_required ? "setup" : "login"),
      () => setView("login"),
    );
  }, []);
  return (
    <section class="auth card">
      <h1>Staxa</h1>
      {view === "checking" && <p class="muted">Checking this appliance…</p>}
      {view === "setup" && <SetupForm next={props.next} />}
      {view === "login" && <LoginForm next={props.next} />}
      {view === "key" && <KeyForm next={props.next} />}
      {view !== "checking" && view !== "setup" && (
        <p class="switch">
          {view === "login" ? (
            <button type="button" class="linklike" onClick={() => setView("key")}>
              Sign in with an API key instead
            </button>
          ) : (
            <button type="button" class="linklike" onClick={() => setView("login")}>
              Sign in with email and password instead
            </button>
          )}
        </p>
      )}
    </section>
  );
}

function SetupForm(props: { next: string | null }) {
  const [f, setF] = useState({ token: "", email: "", password: "", name: "" });
  const act = useAction(async () => {
    await api(
      "POST",
      "/auth/setup",
      { token: f.token.trim(), email: f.email, password: f.password, ...(f.name ? { name: f.name } : {}) },
      { anonymous: true },
    );
    const r = await api<{ token: string }>("POST", "/auth/login", { email: f.email, password: f.password }, { anonymous: true });
    session.set(r.data.token);
    done(props.next);
  });
  const fields = ["token", "email", "password", "name"];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void act.run();
      }}
    >
      <h2>First-run setup</h2>
      <p class="muted">
        Create the first administrator. The one-time setup token was printed by <code>staxa serve</code> when it started.
      </p>
      <Field
        label="Setup token"
        name="token"
        value={f.token}
        err={act.error}
        required
        autocomplete="off"
        onValue={(token) => setF({ ...f, token })}
      />
      <Field
        label="Email"
        name="email"
        type="email"
        value={f.email}
        err={act.error}
        required
        autocomplete="username"
        onValue={(email) => setF({ ...f, email })}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        value={f.password}
        err={act.error}
        required
        autocomplete="new-password"
        hint="At least 10 characters."
        onValue={(password) => setF({ ...f, password })}
      />
      <Field
        label="Name (optional)"
        name="name"
        value={f.name}
        err={act.error}
        autocomplete="organization"
        onValue={(name) => setF({ ...f, name })}
      />
      <ErrorNote err={act.error} fields={fields} />
      <Button type="submit" kind="primary" busy={act.busy}>
        Create administrator
      </Button>
    </form>
  );
}

function LoginForm(props: { next: string | null }) {
  const [f, setF] = useState({ email: "", password: "" });
  const act = useAction(async () => {
    const r = await api<{ token: string }>("POST", "/auth/login", f, { anonymous: true });
    if (!r.data?.token) throw new ApiError(0, "bad_response", "The server did not return a session.");
    session.set(r.data.token);
    done(props.next);
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void act.run();
      }}
    >
      <h2>Sign in</h2>
      <Field
        label="Email"
        name="email"
        type="email"
        value={f.email}
        err={act.error}
        required
        autocomplete="username"
        onValue={(email) => setF({ ...f, email })}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        value={f.password}
        err={act.error}
        required
        autocomplete="current-password"
        onValue={(password) => setF({ ...f, password })}
      />
      <ErrorNote err={act.error} fields={["email", "password"]} />
      <Button type="submit" kind="primary" busy={act.busy}>
        Sign in
      </Button>
    </form>
  );
}

function KeyForm(props: { next: string | null }) {
  const [key, setKey] = useState("");
  const act = useAction(async () => {
    const k = key.trim();
    if (!/^sk_(live|test)_\S+$/.test(k))
      throw new ApiError(400, "validation_error", "An API key starts with sk_live_ or sk_test_.", "api_key");
    session.set(k);
    try {
      await api("GET", "/tenants?limit=1");
    } catch (e) {
      session.clear();
      if (e instanceof ApiError && e.status === 401)
        throw new ApiError(401, "unauthorized", "This API key was not accepted (unknown, revoked or expired).", "api_key");
      throw e;
    }
    done(props.next);
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void act.run();
      }}
    >
      <h2>Sign in with an API key</h2>
      <p class="muted">For automation users. The key stays in this browser until you sign out.</p>
      <Field
        label="API key"
        name="api_key"
        type="password"
        value={key}
        err={act.error}
        required
        autocomplete="off"
        placeholder="sk_live_…"
        onValue={setKey}
      />
      <ErrorNote err={act.error} fields={["api_key"]} />
      <Button type="submit" kind="primary" busy={act.busy}>
        Sign in
      </Button>
    </form>
  );
}
