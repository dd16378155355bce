/** @jsxImportSource preact */
// Pull request previews: on a base tenant, the settings (on/off, forks, TTL, env overrides) and its live previews;
// on a preview tenant, which pull request it shows and where its base is.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, ErrorNote, Field, Link, Loading, When } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

export interface PreviewMark {
  base_tenant_id: string | null;
  repo: string;
  pr_number: number;
}
interface Settings {
  enabled: boolean;
  allow_forks: boolean;
  ttl_hours: number;
  env_overrides: Array<{ key: string; value: string | null }>;
  watches: Array<{ repo: string; branch: string }>;
  limit: number;
}
interface Preview {
  tenant_id: string;
  name: string;
  status: string;
  url: string;
  pr_number: number;
  head_ref: string;
  head_sha: string;
  fork: boolean;
  expires_at: string;
}

/** The overrides as text: KEY=VALUE sets, -KEY removes the variable from previews. */
export const overridesText = (o: Settings["env_overrides"]) =>
  o.map((e) => (e.value === null ? `-${e.key}` : `${e.key}=${e.value}`)).join("\n");

/** The text back to {KEY: value | null}; blank lines and # comments skipped, a line of neither form is a problem. */
export function overridesOf(text: string): { env: Record<string, string | null>; problems: string[] } {
  const env: Record<string, string | null> = {};
  const problems: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (!line.trim() || line.trim().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (line.startsWith("-") && eq < 0) env[line.slice(1).trim()] = null;
    else if (eq > 0) env[line.slice(0, eq).trim()] = line.slice(eq + 1);
    else problems.push(`line ${i + 1}: expected KEY=VALUE or -KEY`);
  });
  // A masked secret sent back would replace the real value with the four stars.
  for (const [k, v] of Object.entries(env))
    if (v === "****") problems.push(`${k}: enter the secret's value again (it is shown masked)`);
  return { env, problems };
}

function PreviewOf(p: { mark: PreviewMark }) {
  return (
    <div class="card">
      <h2>Pull request preview</h2>
      <p>
        This tenant previews pull request <strong>#{p.mark.pr_number}</strong> of <code>{p.mark.repo}</code>. It follows the pull
        request's new commits and is deleted when the pull request closes or its time runs out.
      </p>
      {p.mark.base_tenant_id ? (
        <p>
          Settings live on the <Link href={`/tenants/${encodeURIComponent(p.mark.base_tenant_id)}/previews`}>base tenant</Link>.
        </p>
      ) : (
        <p class="muted">Its base tenant is gone: it will be deleted shortly.</p>
      )}
    </div>
  );
}

export function Previews(p: TabProps & { mark: PreviewMark | null }) {
  const settings = useApi<Settings>(p.mark ? null : `${p.base}/previews`);
  const list = useApi<Preview[]>(p.mark ? null : `${p.base}/previews/list`);
  const [f, setF] = useState({ enabled: false, allow_forks: false, ttl_hours: "72", overrides: "" });
  const [dirtyEnv, setDirtyEnv] = useState(false);
  const [note, setNote] = useState("");
  useEffect(() => {
    const s = settings.data;
    if (s)
      setF({
        enabled: s.enabled,
        allow_forks: s.allow_forks,
        ttl_hours: String(s.ttl_hours),
        overrides: overridesText(s.env_overrides),
      });
  }, [settings.data]);
  useEffect(() => {
    if (p.changed && !p.mark) list.reload();
  }, [p.changed]);
  const [problems, setProblems] = useState<string[]>([]);
  const save = useAction(async () => {
    const parsed = overridesOf(f.overrides);
    setProblems(dirtyEnv ? parsed.problems : []);
    if (dirtyEnv && parsed.problems.length) return;
    const body = {
      enabled: f.enabled,
      allow_forks: f.allow_forks,
      ttl_hours: Number(f.ttl_hours),
      ...(dirtyEnv ? { env_overrides: parsed.env } : {}),
    };
    await api<Settings>("PUT", `${p.base}/previews`, body);
    setNote(f.enabled ? "Saved: pull requests get previews." : "Saved: previews are off.");
    setDirtyEnv(false);
    settings.reload();
  });
  if (p.mark) return <PreviewOf mark={p.mark} />;
  const s = settings.data;
  const rows = list.data ?? [];
  return (
    <div class="card">
      <h2>Pull request previews</h2>
      {settings.loading && !s && <Loading what="preview settings" />}
      <ErrorNote err={settings.error ?? list.error} />
      {s && (
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
          noValidate
        >
          <p class="muted">
            {s.watches.length
              ? `Pull requests to ${s.watches.map((w) => `${w.repo} (${w.branch})`).join(", ")} get a preview tenant named ${p.tenant.name}-pr-N: the same services at the pull request's head, this tenant's environment with the overrides below, the small size, no custom domains.`
              : "This tenant has no service built from a GitHub App repository: no pull request can preview it."}{" "}
            At most {s.limit} previews per account.
          </p>
          <label class="check">
            <input
              type="checkbox"
              name="enabled"
              checked={f.enabled}
              onChange={(e) => setF({ ...f, enabled: (e.currentTarget as HTMLInputElement).checked })}
            />{" "}
            Deploy a preview for each pull request
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="allow_forks"
              checked={f.allow_forks}
              onChange={(e) => setF({ ...f, allow_forks: (e.currentTarget as HTMLInputElement).checked })}
            />{" "}
            Also for pull requests from forks: their code runs with this tenant's environment, secrets included
          </label>
          <Field
            label="Delete after (hours without a new commit)"
            name="ttl_hours"
            type="number"
            min={1}
            max={2160}
            value={f.ttl_hours}
            err={save.error}
            onValue={(v) => setF({ ...f, ttl_hours: v })}
          />
          <label class="field">
            Environment overrides: KEY=VALUE replaces a value, -KEY removes the variable from previews
            <textarea
              name="env_overrides"
              rows={4}
              value={f.overrides}
              placeholder={"APP_ENV=preview\n-STRIPE_SECRET_KEY"}
              onInput={(e) => {
                setDirtyEnv(true);
                setF({ ...f, overrides: (e.currentTarget as HTMLTextAreaElement).value });
              }}
            />
          </label>
          {problems.length > 0 && (
            <ul class="note error" role="alert">
              {problems.map((x) => (
                <li>{x}</li>
              ))}
            </ul>
          )}
          <ErrorNote err={save.error} fields={["ttl_hours"]} />
          <Button type="submit" kind="primary" busy={save.busy}>
            Save
          </Button>
          {note && (
            <p class="note ok" role="status">
              {note}
            </p>
          )}
        </form>
      )}
      <h3>Live previews</h3>
      {list.data && rows.length === 0 && <p class="muted">No previews.</p>}
      {rows.length > 0 && (
        <table class="stack">
          <thead>
            <tr>
              <th>Pull request</th>
              <th>Tenant</th>
              <th>Status</th>
              <th>Head</th>
              <th>Expires</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-preview={r.tenant_id}>
                <td data-label="Pull request">
                  #{r.pr_number}
                  {r.fork && " (fork)"}
                </td>
                <td data-label="Tenant">
                  <Link href={`/tenants/${encodeURIComponent(r.tenant_id)}`}>{r.name}</Link>{" "}
                  <a href={r.url} target="_blank" rel="noopener noreferrer">
                    open
                  </a>
                </td>
                <td data-label="Status">
                  <Badge status={r.status} />
                </td>
                <td data-label="Head">
                  <code>
                    {r.head_ref}@{r.head_sha.slice(0, 7)}
                  </code>
                </td>
                <td data-label="Expires">
                  <When at={r.expires_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
