/** @jsxImportSource preact */
// New tenant: from a git repo (or a repo of the GitHub installation), an image, or a template.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { navigate } from "../router.ts";
import { parseEnv, formatEnv } from "../env-file.ts";
import { Button, ErrorNote, Field, Link, Select, fieldIs } from "../components/ui.tsx";

interface Template {
  id: string;
  name: string;
  framework: string;
  description: string;
  repo_url?: string;
  image?: string;
  default_env?: Record<string, string>;
  default_port?: number;
  required_env?: string[];
}
interface GhRepo {
  full_name: string;
  default_branch: string;
  private: boolean;
}

type Source = "repo" | "image" | "template";
const SIZES: [string, string][] = [
  ["small", "small"],
  ["medium", "medium"],
  ["large", "large"],
];

export function CreateTenantPage() {
  const [source, setSource] = useState<Source>(() => (new URL(location.href).searchParams.get("source") as Source) || "repo");
  const [f, setF] = useState({
    name: "",
    display_name: "",
    repo_url: "",
    branch: "main",
    image_url: "",
    app_port: "",
    resource_size: "small",
    env: "",
  });
  const [templateId, setTemplateId] = useState("");
  const set = (k: keyof typeof f) => (v: string) => setF((old) => ({ ...old, [k]: v }));
  const templates = useApi<Template[]>(source === "template" ? "/templates" : null);

  const pickTemplate = async (id: string) => {
    setTemplateId(id);
    if (!id) return;
    let t = templates.data?.find((x) => x.id === id);
    try {
      t = (await api<Template>("GET", `/templates/${seg(id)}`)).data ?? t;
    } catch {
      // the list entry is enough to pre-fill the source
    }
    if (!t) return;
    const env: [string, string][] = Object.entries(t.default_env ?? {});
    for (const k of t.required_env ?? []) if (!env.some(([e]) => e === k)) env.push([k, ""]);
    setF((old) => ({
      ...old,
      name:
        old.name ||
        t!.id
          .replace(/^tpl_/, "")
          .replace(/[^a-z0-9-]/g, "-")
          .slice(0, 40),
      repo_url: t!.repo_url ?? "",
      image_url: t!.image ?? "",
      app_port: t!.default_port ? String(t!.default_port) : old.app_port,
      env: formatEnv(env),
    }));
  };

  const act = useAction(async () => {
    const { vars, problems } = parseEnv(f.env);
    if (problems.length) throw new ApiError(400, "validation_error", `Environment: ${problems[0]}`, "env");
    const tpl = templates.data?.find((x) => x.id === templateId);
    const useImage = source === "image" || (source === "template" && !!f.image_url && !f.repo_url);
    if (source === "template" && !tpl) throw new ApiError(400, "validation_error", "Choose a template.", "template");
    const body: Record<string, unknown> = {
      name: f.name.trim(),
      source_type: useImage ? "image" : "github",
      resource_size: f.resource_size,
      ...(f.display_name.trim() ? { display_name: f.display_name.trim() } : {}),
      ...(useImage ? { image_url: f.image_url.trim() } : { repo_url: f.repo_url.trim(), branch: f.branch.trim() || "main" }),
      ...(f.app_port ? { app_port: Number(f.app_port) } : {}),
      ...(vars.length ? { env: Object.fromEntries(vars) } : {}),
    };
    const r = await api<{ id: string }>("POST", "/tenants", body);
    navigate(`/tenants/${encodeURIComponent(r.data.id)}`);
  });
  const err = act.error;
  const shown = [
    "name",
    "display_name",
    "repo_url",
    "branch",
    "image_url",
    "app_port",
    "resource_size",
    "env",
    "template",
    "source_type",
  ];

  return (
    <section>
      <p>
        <Link href="/tenants">← Tenants</Link>
      </p>
      <h1>New tenant</h1>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run();
        }}
        noValidate
      >
        <fieldset class="row" style="border:0;padding:0;margin:0 0 .75rem">
          <legend class="label">Source</legend>
          {(["repo", "image", "template"] as Source[]).map((s) => (
            <label class="check">
              <input type="radio" name="source" value={s} checked={source === s} onChange={() => setSource(s)} />{" "}
              {s === "repo" ? "Git repository" : s === "image" ? "Container image" : "Template"}
            </label>
          ))}
        </fieldset>
        {source === "template" && (
          <div class={`field${fieldIs(err, "template") ? " invalid" : ""}`}>
            <label for="tpl">Template</label>
            <select id="tpl" value={templateId} onChange={(e) => void pickTemplate((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">{templates.loading ? "Loading templates…" : "Choose a template"}</option>
              {templates.data?.map((t) => (
                <option value={t.id}>
                  {t.name} ({t.framework})
                </option>
              ))}
            </select>
            {templateId && <small>{templates.data?.find((t) => t.id === templateId)?.description}</small>}
            {fieldIs(err, "template") && (
              <p class="field-error" role="alert">
                {err!.message}
              </p>
            )}
            <ErrorNote err={templates.error} />
          </div>
        )}
        <div class="row">
          <Field
            label="Name"
            name="name"
            value={f.name}
            err={err}
            required
            maxLength={63}
            autocomplete="off"
            hint="Lower-case letters, digits and '-'; it becomes the subdomain."
            onValue={set("name")}
          />
          <Field
            label="Display name (optional)"
            name="display_name"
            value={f.display_name}
            err={err}
            onValue={set("display_name")}
          />
        </div>
        {(source === "repo" || (source === "template" && !!f.repo_url)) && (
          <>
            {source === "repo" && <GithubPicker onPick={(repo, branch) => setF((o) => ({ ...o, repo_url: repo, branch }))} />}
            <div class="row">
              <Field
                label="Repository URL"
                name="repo_url"
                value={f.repo_url}
                err={err}
                placeholder="https://github.com/acme/webapp"
                onValue={set("repo_url")}
              />
              <Field label="Branch" name="branch" value={f.branch} err={err} onValue={set("branch")} />
            </div>
          </>
        )}
        {(source === "image" || (source === "template" && !!f.image_url && !f.repo_url)) && (
          <Field
            label="Image"
            name="image_url"
            value={f.image_url}
            err={err}
            placeholder="registry.example.com/acme/web:1.2"
            onValue={set("image_url")}
          />
        )}
        <div class="row">
          <Field
            label="App port (optional)"
            name="app_port"
            type="number"
            min={1}
            max={65535}
            value={f.app_port}
            err={err}
            hint="Detected from the framework when empty."
            onValue={set("app_port")}
          />
          <Select
            label="Resource size"
            name="resource_size"
            value={f.resource_size}
            options={SIZES}
            err={err}
            onValue={set("resource_size")}
          />
        </div>
        <div class={`field${fieldIs(err, "env") ? " invalid" : ""}`}>
          <label for="create-env">Environment (.env format, optional)</label>
          <textarea
            id="create-env"
            name="env"
            value={f.env}
            spellcheck={false}
            aria-invalid={fieldIs(err, "env")}
            placeholder={"NODE_ENV=production\nDATABASE_URL=postgres://…"}
            onInput={(e) => set("env")((e.currentTarget as HTMLTextAreaElement).value)}
          />
          {fieldIs(err, "env") && (
            <p class="field-error" role="alert">
              {err!.message}
            </p>
          )}
        </div>
        <ErrorNote err={err} fields={shown} />
        <div class="actions">
          <Button type="submit" kind="primary" busy={act.busy}>
            {act.busy ? "Creating…" : "Create tenant"}
          </Button>
          <Link href="/tenants" class="btn">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}

/** Repos and branches of the GitHub installation, when one is registered (silent otherwise). */
function GithubPicker(props: { onPick: (repoUrl: string, branch: string) => void }) {
  const repos = useApi<GhRepo[]>("/github/repos");
  const [repo, setRepo] = useState("");
  const branches = useApi<{ name: string }[]>(repo ? `/github/repos/${repo.split("/").map(seg).join("/")}/branches` : null);
  useEffect(() => {
    const r = repos.data?.find((x) => x.full_name === repo);
    if (r) props.onPick(`https://github.com/${r.full_name}`, r.default_branch || "main");
  }, [repo]);
  if (!repos.data || repos.data.length === 0) return null;
  return (
    <div class="row">
      <div class="field">
        <label for="gh-repo">GitHub repository</label>
        <select id="gh-repo" value={repo} onChange={(e) => setRepo((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">Type a URL below, or pick one</option>
          {repos.data.map((r) => (
            <option value={r.full_name}>
              {r.full_name}
              {r.private ? " (private)" : ""}
            </option>
          ))}
        </select>
      </div>
      {repo && branches.data && (
        <div class="field">
          <label for="gh-branch">Branch</label>
          <select
            id="gh-branch"
            onChange={(e) => props.onPick(`https://github.com/${repo}`, (e.currentTarget as HTMLSelectElement).value)}
          >
            {branches.data.map((b) => (
              <option value={b.name}>{b.name}</option>
            ))}
          </select>
        </div>
      )}
    </div>
  );
}
