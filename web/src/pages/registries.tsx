/** @jsxImportSource preact */
// Registry credentials: save (password write-only), verify, update the password, delete, browse repos and tags.
import { useState } from "preact/hooks";
import { api, seg } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Badge, Button, ErrorNote, Field, Loading, When, txt } from "../components/ui.tsx";

interface Cred {
  id: string;
  name: string;
  registry_url: string;
  username: string;
  verified: boolean;
  created_at?: string;
}
interface Repo {
  name: string;
  tag_count?: number;
}
interface Tag {
  name: string;
  digest?: string;
  size?: number;
}

const EMPTY = { name: "", registry_url: "", username: "", password: "" };

export function RegistriesPage() {
  const list = useApi<Cred[]>("/registries");
  const [f, setF] = useState(EMPTY);
  const [open, setOpen] = useState<string | null>(null);
  const create = useAction(async () => {
    await api("POST", "/registries", f);
    setF(EMPTY);
    list.reload();
  });
  const fields = ["name", "registry_url", "username", "password"];
  return (
    <section>
      <h1>Registry credentials</h1>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <h2>Add a registry</h2>
        <div class="row">
          <Field
            label="Name"
            name="name"
            value={f.name}
            err={create.error}
            placeholder="Docker Hub"
            onValue={(name) => setF({ ...f, name })}
          />
          <Field
            label="Registry URL"
            name="registry_url"
            value={f.registry_url}
            err={create.error}
            placeholder="https://registry.example.com"
            onValue={(registry_url) => setF({ ...f, registry_url })}
          />
        </div>
        <div class="row">
          <Field
            label="Username"
            name="username"
            value={f.username}
            err={create.error}
            autocomplete="off"
            onValue={(username) => setF({ ...f, username })}
          />
          <Field
            label="Password or token"
            name="password"
            type="password"
            value={f.password}
            err={create.error}
            autocomplete="new-password"
            hint="Stored encrypted; never shown again."
            onValue={(password) => setF({ ...f, password })}
          />
        </div>
        <ErrorNote err={create.error} fields={fields} />
        <Button type="submit" kind="primary" busy={create.busy}>
          Save credential
        </Button>
      </form>
      <ErrorNote err={list.error} />
      {list.loading && !list.data && <Loading what="registries" />}
      {list.data?.length === 0 && <p class="muted">No registry credentials.</p>}
      {list.data?.map((c) => (
        <CredCard cred={c} open={open === c.id} toggle={() => setOpen(open === c.id ? null : c.id)} reload={list.reload} />
      ))}
    </section>
  );
}

function CredCard(props: { cred: Cred; open: boolean; toggle: () => void; reload: () => void }) {
  const c = props.cred;
  const base = `/registries/${seg(c.id)}`;
  const [note, setNote] = useState("");
  const [password, setPassword] = useState("");
  const act = useAction(async (kind: "verify" | "delete" | "password") => {
    if (kind === "verify") {
      const r = await api<{ status?: string; verified?: boolean }>("POST", `${base}/verify`);
      setNote(
        r.data?.status === "verified" || r.data?.verified
          ? "Verified: the registry accepted these credentials."
          : `Not verified (${txt(r.data?.status)}).`,
      );
    } else if (kind === "password") {
      await api("PATCH", base, { password });
      setPassword("");
      setNote("Password updated; verify again.");
    } else await api("DELETE", base);
    props.reload();
  });
  return (
    <div class="card">
      <div class="spread">
        <h2>
          {c.name} <Badge status={c.verified ? "verified" : "unverified"} />
        </h2>
        <div class="actions" style="margin:0">
          <Button busy={act.busy} onClick={() => void act.run("verify")}>
            Verify
          </Button>
          <Button onClick={props.toggle} aria-expanded={props.open}>
            {props.open ? "Hide repositories" : "Browse repositories"}
          </Button>
          <Button
            busy={act.busy}
            onClick={() => {
              if (confirm(`Delete the credential “${c.name}”?`)) void act.run("delete");
            }}
          >
            Delete
          </Button>
        </div>
      </div>
      <p class="muted">
        {c.registry_url} · {c.username}
        {c.created_at && (
          <>
            {" "}
            · added <When at={c.created_at} />
          </>
        )}
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run("password");
        }}
      >
        <Field
          label="New password"
          name="password"
          type="password"
          value={password}
          err={act.error}
          autocomplete="new-password"
          onValue={setPassword}
        />
        <Button type="submit" busy={act.busy} disabled={!password}>
          Update password
        </Button>
      </form>
      <ErrorNote err={act.error} fields={["password"]} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {props.open && <RepoBrowser base={base} />}
    </div>
  );
}

function RepoBrowser(props: { base: string }) {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const repos = useApi<Repo[]>(`${props.base}/repos?limit=50${query ? `&q=${encodeURIComponent(query)}` : ""}`);
  const [repo, setRepo] = useState<string | null>(null);
  // Repository names keep their slashes: the tags route matches the rest of the path.
  const tags = useApi<Tag[]>(repo ? `${props.base}/repos/${repo.split("/").map(seg).join("/")}/tags` : null);
  return (
    <div>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q);
        }}
      >
        <Field label="Filter repositories" name="q" value={q} onValue={setQ} />
        <Button type="submit">Search</Button>
      </form>
      <ErrorNote err={repos.error} />
      {repos.loading && <Loading what="repositories" />}
      <ul>
        {repos.data?.map((r) => (
          <li>
            <button
              type="button"
              class="linklike"
              aria-expanded={repo === r.name}
              onClick={() => setRepo(repo === r.name ? null : r.name)}
            >
              {r.name}
            </button>
            {r.tag_count !== undefined && <span class="muted"> ({r.tag_count} tags)</span>}
            {repo === r.name && (
              <div>
                <ErrorNote err={tags.error} />
                {tags.loading && <Loading what="tags" />}
                <ul>
                  {tags.data?.map((t) => (
                    <li>
                      <code>
                        {r.name}:{t.name}
                      </code>
                      {t.size ? <span class="muted"> · {(t.size / 1048576).toFixed(1)} MB</span> : null}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </li>
        ))}
      </ul>
      {repos.data?.length === 0 && <p class="muted">No repositories.</p>}
    </div>
  );
}
