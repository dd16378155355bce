/** @jsxImportSource preact */
// API keys: list (prefix only), create (the raw key shown once, with a copy button), revoke.
import { useState } from "preact/hooks";
import { api, seg } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, Select, When, txt } from "../components/ui.tsx";

interface Key {
  id: string;
  name: string;
  prefix: string;
  mode: string;
  scopes: string[];
  expires_at: string | null;
  created_at: string;
  last_used_at?: string | null;
}

const SCOPE_SETS: [string, string][] = [
  ["*", "Full access (*)"],
  [
    "tenants:read,deployments:read,env:read,domains:read,network:read,templates:read,registries:read,github:read,webhooks:read",
    "Read only",
  ],
  ["tenants:write,deployments:write,env:write,templates:read", "Deploy (tenants, deployments, env)"],
];

export function ApiKeysPage() {
  const keys = useApi<Key[]>("/api-keys");
  const [f, setF] = useState({ name: "", mode: "live", scopes: "*", expires_at: "" });
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const create = useAction(async () => {
    const body: Record<string, unknown> = { name: f.name.trim(), mode: f.mode, scopes: f.scopes.split(",") };
    if (f.expires_at) body.expires_at = new Date(`${f.expires_at}T23:59:59Z`).toISOString();
    const r = await api<{ key: string; name: string }>("POST", "/api-keys", body);
    setCreated({ name: r.data?.name ?? f.name, key: r.data?.key ?? "" });
    setF({ ...f, name: "" });
    keys.reload();
  });
  const revoke = useAction(async (k: Key) => {
    await api("DELETE", `/api-keys/${seg(k.id)}`);
    keys.reload();
  });
  return (
    <section>
      <h1>API keys</h1>
      {created && (
        <div class="once card" role="status">
          <p>
            <strong>Key “{created.name}” created.</strong> Copy it now: it is shown only this once and cannot be recovered.
          </p>
          <p>
            <code data-testid="new-key">{created.key}</code> <CopyButton text={created.key} label="Copy the new API key" />
          </p>
          <button type="button" class="btn" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </div>
      )}
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <h2>Create a key</h2>
        <div class="row">
          <Field
            label="Name"
            name="name"
            value={f.name}
            err={create.error}
            placeholder="CI deploys"
            onValue={(name) => setF({ ...f, name })}
          />
          <Select
            label="Mode"
            name="mode"
            value={f.mode}
            options={[
              ["live", "live (sk_live_…)"],
              ["test", "test (sk_test_…)"],
            ]}
            err={create.error}
            onValue={(mode) => setF({ ...f, mode })}
          />
          <Select
            label="Scopes"
            name="scopes"
            value={f.scopes}
            options={SCOPE_SETS}
            err={create.error}
            onValue={(scopes) => setF({ ...f, scopes })}
          />
          <Field
            label="Expires (optional)"
            name="expires_at"
            type="date"
            value={f.expires_at}
            err={create.error}
            onValue={(expires_at) => setF({ ...f, expires_at })}
          />
        </div>
        <ErrorNote err={create.error} fields={["name", "mode", "scopes", "expires_at"]} />
        <Button type="submit" kind="primary" busy={create.busy}>
          Create key
        </Button>
      </form>
      <ErrorNote err={revoke.error ?? keys.error} />
      {keys.loading && !keys.data && <Loading what="keys" />}
      {keys.data && (
        <div class="card table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Mode</th>
                <th>Scopes</th>
                <th>Expires</th>
                <th>Created</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr>
                  <td data-label="Name">{txt(k.name)}</td>
                  <td data-label="Prefix">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Mode">
                    <Badge status={k.mode} />
                  </td>
                  <td data-label="Scopes">{txt(k.scopes)}</td>
                  <td data-label="Expires">{k.expires_at ? <When at={k.expires_at} /> : "never"}</td>
                  <td data-label="Created">
                    <When at={k.created_at} />
                  </td>
                  <td data-label="Actions">
                    <Button
                      class="btn small"
                      busy={revoke.busy}
                      onClick={() => {
                        if (confirm(`Revoke “${k.name}”? Anything using it stops working at once.`)) void revoke.run(k);
                      }}
                    >
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {keys.data.length === 0 && <p class="muted">No API keys.</p>}
        </div>
      )}
    </section>
  );
}
