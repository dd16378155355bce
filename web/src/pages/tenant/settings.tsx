/** @jsxImportSource preact */
// Settings: display name, repository, branch, resource size, port, egress mode (PATCH), and deletion with confirmation.
import { useState } from "preact/hooks";
import { api } from "../../api.ts";
import { useAction } from "../../hooks.ts";
import { navigate } from "../../router.ts";
import { Button, ErrorNote, Field, Select } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

const EFFECT: Record<string, string> = {
  none: "Saved.",
  redeploy: "Saved; the app is restarting with the new settings (no rebuild).",
  rebuild: "Saved; a new build and deployment started.",
};

export function Settings(p: TabProps) {
  const t = p.tenant;
  const git = t.source_type !== "image";
  const [f, setF] = useState({
    display_name: t.display_name ?? "",
    repo_url: t.repo_url ?? "",
    branch: t.branch ?? "",
    resource_size: t.resource_size,
    app_port: t.app_port ? String(t.app_port) : "",
    egress_mode: t.egress_mode,
  });
  const set = (k: keyof typeof f) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const [note, setNote] = useState("");
  const save = useAction(async () => {
    const body: Record<string, unknown> = {};
    if (f.display_name !== (t.display_name ?? "")) body.display_name = f.display_name;
    if (git && f.repo_url !== (t.repo_url ?? "")) body.repo_url = f.repo_url.trim();
    if (git && f.branch !== (t.branch ?? "")) body.branch = f.branch;
    if (f.resource_size !== t.resource_size) body.resource_size = f.resource_size;
    if (f.app_port !== (t.app_port ? String(t.app_port) : "")) body.app_port = f.app_port === "" ? null : Number(f.app_port);
    if (f.egress_mode !== t.egress_mode) body.egress_mode = f.egress_mode;
    if (Object.keys(body).length === 0) {
      setNote("Nothing changed.");
      return;
    }
    const r = await api("PATCH", p.base, body); // a bad repo_url is a 400 naming it, shown at the field
    p.reload();
    setNote(EFFECT[String(r.meta.effect)] ?? "Saved.");
  });
  const [confirmName, setConfirmName] = useState("");
  const del = useAction(async () => {
    await api("DELETE", p.base);
    navigate("/tenants");
  });
  const fields = ["display_name", "repo_url", "branch", "resource_size", "app_port", "egress_mode"];
  return (
    <div>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
        noValidate
      >
        <h2>Settings</h2>
        <Field label="Display name" name="display_name" value={f.display_name} err={save.error} onValue={set("display_name")} />
        {git && (
          <div class="row">
            <Field
              label="Repository URL"
              name="repo_url"
              value={f.repo_url}
              spellcheck={false}
              autocomplete="off"
              hint="Changing it builds and deploys the new repository; the running app serves until the new one is healthy."
              err={save.error}
              onValue={set("repo_url")}
            />
            <Field label="Branch" name="branch" value={f.branch} err={save.error} onValue={set("branch")} />
          </div>
        )}
        <div class="row">
          <Select
            label="Resource size"
            name="resource_size"
            value={f.resource_size}
            options={[
              ["small", "small"],
              ["medium", "medium"],
              ["large", "large"],
            ]}
            err={save.error}
            onValue={set("resource_size")}
          />
          <Field
            label="App port"
            name="app_port"
            type="number"
            min={1}
            max={65535}
            value={f.app_port}
            err={save.error}
            onValue={set("app_port")}
          />
          <Select
            label="Egress mode"
            name="egress_mode"
            value={f.egress_mode}
            options={[
              ["open", "open (any destination)"],
              ["restricted", "restricted (outbound rules only)"],
            ]}
            err={save.error}
            onValue={set("egress_mode")}
          />
        </div>
        <ErrorNote err={save.error} fields={fields} />
        {note && (
          <p class="note ok" role="status">
            {note}
          </p>
        )}
        <Button type="submit" kind="primary" busy={save.busy}>
          Save settings
        </Button>
      </form>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (confirmName === t.name) void del.run();
        }}
      >
        <h2>Delete tenant</h2>
        <p>
          Deleting stops and removes every container, volume, domain and rule of <strong>{t.name}</strong>. This cannot be undone.
        </p>
        <Field
          label={`Type ${t.name} to confirm`}
          name="confirm_name"
          value={confirmName}
          autocomplete="off"
          onValue={setConfirmName}
        />
        <ErrorNote err={del.error} />
        <Button type="submit" kind="danger" busy={del.busy} disabled={confirmName !== t.name}>
          Delete tenant
        </Button>
      </form>
    </div>
  );
}
