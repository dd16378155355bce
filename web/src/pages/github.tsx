/** @jsxImportSource preact */
// GitHub: the App installation of this provider (register, remove), its repositories and branches.
import { useState } from "preact/hooks";
import { api, seg } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Badge, Button, ErrorNote, Field, Link, Loading, When, txt } from "../components/ui.tsx";

interface Installation {
  installation_id: number;
  account?: string;
  status?: string;
  created_at?: string;
}
interface Repo {
  full_name: string;
  private: boolean;
  default_branch: string;
  language?: string | null;
}

export function GithubPage() {
  const inst = useApi<Installation | null>("/github/installation");
  const [id, setId] = useState("");
  const register = useAction(async () => {
    await api("POST", "/github/installation", { installation_id: Number(id) });
    setId("");
    inst.reload();
  });
  const remove = useAction(async () => {
    await api("DELETE", "/github/installation");
    inst.reload();
  });
  const installed = !!inst.data?.installation_id;
  // No installation: the 404 says whether the App is set up on this server; registering without it cannot work.
  const notConfigured =
    (inst.error?.status === 404 && inst.error.details?.app_configured === false) ||
    register.error?.code === "github_not_configured";
  if (notConfigured) {
    return (
      <section>
        <h1>GitHub</h1>
        <div class="card" role="status">
          <h2>The GitHub App is not configured on this server</h2>
          <p>
            Deploying private repositories and deploying on every push need a GitHub App. An administrator creates one on GitHub,
            then sets <code>STAXA_GITHUB_APP_ID</code> and <code>STAXA_GITHUB_PRIVATE_KEY_FILE</code> (and{" "}
            <code>STAXA_GITHUB_WEBHOOK_SECRET</code> for pushes) and restarts Staxa.
          </p>
          <p class="muted">
            Until then, tenants deploy from any public git URL or from a container image.{" "}
            <Link href="/tenants/new">Create a tenant</Link>.
          </p>
        </div>
      </section>
    );
  }
  return (
    <section>
      <h1>GitHub</h1>
      {inst.loading && !inst.data && <Loading what="installation" />}
      {inst.error && inst.error.status !== 404 && <ErrorNote err={inst.error} />}
      {installed ? (
        <div class="card">
          <div class="spread">
            <h2>
              Installation {inst.data!.installation_id} <Badge status={inst.data!.status ?? "active"} />
            </h2>
            <Button
              busy={remove.busy}
              onClick={() => {
                if (confirm("Remove the GitHub installation link?")) void remove.run();
              }}
            >
              Remove
            </Button>
          </div>
          <p class="muted">
            Account {txt(inst.data!.account)} · since <When at={inst.data!.created_at} />
          </p>
          <ErrorNote err={remove.error} />
        </div>
      ) : (
        !inst.loading && (
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault();
              void register.run();
            }}
            noValidate
          >
            <h2>Register an installation</h2>
            <p class="muted">
              Install the GitHub App on your account or organisation, then enter the installation id from the callback.
            </p>
            <Field
              label="Installation id"
              name="installation_id"
              type="number"
              min={1}
              value={id}
              err={register.error}
              onValue={setId}
            />
            <ErrorNote err={register.error} fields={["installation_id"]} />
            <Button type="submit" kind="primary" busy={register.busy}>
              Register
            </Button>
          </form>
        )
      )}
      {installed && <Repos />}
    </section>
  );
}

function Repos() {
  const repos = useApi<Repo[]>("/github/repos");
  const [open, setOpen] = useState<string | null>(null);
  const branches = useApi<{ name: string; protected?: boolean }[]>(
    open ? `/github/repos/${open.split("/").map(seg).join("/")}/branches` : null,
  );
  return (
    <div class="card">
      <h2>Repositories</h2>
      <ErrorNote err={repos.error} />
      {repos.loading && <Loading what="repositories" />}
      <ul>
        {repos.data?.map((r) => (
          <li>
            <button
              type="button"
              class="linklike"
              aria-expanded={open === r.full_name}
              onClick={() => setOpen(open === r.full_name ? null : r.full_name)}
            >
              {r.full_name}
            </button>
            {r.private && <span class="badge neutral">private</span>} <span class="muted">{txt(r.language)}</span>
            {open === r.full_name && (
              <div>
                <ErrorNote err={branches.error} />
                {branches.loading && <Loading what="branches" />}
                <ul>
                  {branches.data?.map((b) => (
                    <li>
                      {b.name}
                      {b.protected && <span class="muted"> (protected)</span>}
                    </li>
                  ))}
                </ul>
                <Link class="btn small" href="/tenants/new?source=repo">
                  Create a tenant from a repository
                </Link>
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
