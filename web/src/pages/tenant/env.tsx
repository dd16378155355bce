/** @jsxImportSource preact */
// Env editor. The API masks secrets as "****"; saving sends only what changed (PATCH: set and unset), so a
// hidden value left alone stays as stored on the server and is never typed again nor sent back as "****".
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { formatEnv, parseEnv } from "../../env-file.ts";
import { Button, ErrorNote, Loading, fieldIs } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

const MASK = "****";

interface Row {
  key: string;
  value: string;
  /** The API showed "****": the real value is unknown here and must be typed again to keep it. */
  masked: boolean;
}

let rowSeq = 0;

export function EnvEditor(p: TabProps) {
  const env = useApi<{ key: string; value: string }[]>(`${p.base}/env`);
  const [rows, setRows] = useState<(Row & { uid: number })[]>([]);
  const [bulk, setBulk] = useState<string | null>(null);
  const [bulkProblems, setBulkProblems] = useState<string[]>([]);
  const [saved, setSaved] = useState("");
  const [dirty, setDirty] = useState(false);

  useEffect(() => {
    if (!env.data || dirty) return;
    setRows(
      env.data.map((v) => ({ key: v.key, value: v.value === MASK ? "" : v.value, masked: v.value === MASK, uid: ++rowSeq })),
    );
  }, [env.data]);

  const edit = (uid: number, patch: Partial<Row>) => {
    setDirty(true);
    setRows((rs) => rs.map((r) => (r.uid === uid ? { ...r, ...patch } : r)));
  };

  /** Merges .env text into the rows: a "****" value in the text keeps the row masked (not a value). */
  const applyText = (text: string, replace: boolean) => {
    const { vars, problems } = parseEnv(text);
    setBulkProblems(problems);
    if (problems.length) return false;
    setDirty(true);
    setRows((old) => {
      const next = replace ? [] : old.slice();
      for (const [key, value] of vars) {
        const prev = old.find((r) => r.key === key);
        const row = value === MASK ? { key, value: "", masked: prev?.masked ?? true } : { key, value, masked: false };
        const i = next.findIndex((r) => r.key === key);
        if (i >= 0) next[i] = { ...next[i], ...row };
        else next.push({ ...row, uid: ++rowSeq });
      }
      return next;
    });
    return true;
  };

  const save = useAction(async () => {
    const patch = envPatch(env.data ?? [], rows);
    const count = Object.keys(patch.set ?? {}).length + (patch.unset?.length ?? 0);
    if (count === 0) {
      setSaved("No changes to save.");
      setDirty(false);
      return;
    }
    const r = await api<{ key: string; value: string }[]>("PATCH", `${p.base}/env`, patch);
    const ids = (r.meta.deployment_ids as string[] | undefined) ?? [];
    setSaved(`Saved ${count} change(s).${ids.length ? ` Redeploying (${ids.join(", ")}): follow it on the Overview tab.` : ""}`);
    setDirty(false);
    env.reload();
  });

  const err = save.error;
  // Our own checks name the row; the API names the variable (details.field "KEY" or "body.KEY").
  const rowErr = (uid: number) => {
    const r = rows.find((x) => x.uid === uid);
    if (!err || !r) return null;
    return err.field === `row:${uid}` || (r.key && fieldIs(err, r.key.trim())) ? err.message : null;
  };
  const shownAtRow = rows.some((r) => rowErr(r.uid));

  if (!env.data) return <div class="card">{env.loading ? <Loading what="variables" /> : <ErrorNote err={env.error} />}</div>;
  return (
    <div class="card">
      <div class="spread">
        <h2>Environment variables</h2>
        <div class="actions" style="margin:0">
          <button
            type="button"
            class="btn"
            onClick={() =>
              setBulk(bulk === null ? formatEnv(rows.map((r) => [r.key, r.masked && !r.value ? MASK : r.value])) : null)
            }
            aria-expanded={bulk !== null}
          >
            {bulk === null ? "Bulk edit / paste .env" : "Close bulk edit"}
          </button>
          <label class="btn">
            Load .env file
            <input
              type="file"
              accept=".env,text/plain"
              class="sr-only"
              onChange={async (e) => {
                const f = (e.currentTarget as HTMLInputElement).files?.[0];
                if (f) applyText(await f.text(), false);
              }}
            />
          </label>
        </div>
      </div>
      <p class="muted">
        Secret values are hidden by the API and shown as empty “hidden” fields: leave one empty to keep it, type a new value to
        replace it. Saving sends only your changes and redeploys.
      </p>
      {bulk !== null && (
        <div class="field">
          <label for="env-bulk">
            .env text (KEY=VALUE per line; <code>{MASK}</code> marks a hidden value)
          </label>
          <textarea
            id="env-bulk"
            value={bulk}
            spellcheck={false}
            onInput={(e) => setBulk((e.currentTarget as HTMLTextAreaElement).value)}
          />
          {bulkProblems.map((x) => (
            <p class="field-error" role="alert">
              {x}
            </p>
          ))}
          <div class="actions">
            <button type="button" class="btn primary" onClick={() => applyText(bulk, true) && setBulk(null)}>
              Replace rows with this text
            </button>
            <button type="button" class="btn" onClick={() => applyText(bulk, false) && setBulk(null)}>
              Merge into rows
            </button>
          </div>
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
      >
        {rows.length === 0 && <p class="muted">No variables.</p>}
        {rows.map((r, i) => (
          <div class={`env-row${rowErr(r.uid) ? " invalid" : ""}`}>
            <div class="field" style="margin:0">
              <label for={`env-k-${r.uid}`} class={i ? "sr-only" : ""}>
                Name
              </label>
              <input
                id={`env-k-${r.uid}`}
                value={r.key}
                spellcheck={false}
                aria-label={`Name of variable ${i + 1}`}
                onInput={(e) => edit(r.uid, { key: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
            <div class="field" style="margin:0">
              <label for={`env-v-${r.uid}`} class={i ? "sr-only" : ""}>
                Value
              </label>
              <input
                id={`env-v-${r.uid}`}
                value={r.value}
                spellcheck={false}
                type={(r.masked ? "password" : "text") as "text"}
                autocomplete="off"
                placeholder={r.masked ? "hidden — unchanged unless you type a new value" : ""}
                aria-invalid={!!rowErr(r.uid)}
                aria-label={`Value of ${r.key || `variable ${i + 1}`}`}
                onInput={(e) => edit(r.uid, { value: (e.currentTarget as HTMLInputElement).value })}
              />
              {r.masked && <span class="secret-tag">secret{r.value ? " (new value entered)" : " (hidden)"}</span>}
              {rowErr(r.uid) && (
                <p class="field-error" role="alert">
                  {rowErr(r.uid)}
                </p>
              )}
            </div>
            <button
              type="button"
              class="btn small"
              aria-label={`Remove ${r.key || `variable ${i + 1}`}`}
              onClick={() => {
                setDirty(true);
                setRows((rs) => rs.filter((x) => x.uid !== r.uid));
              }}
            >
              Remove
            </button>
          </div>
        ))}
        <div class="actions">
          <button
            type="button"
            class="btn"
            onClick={() => {
              setDirty(true);
              setRows((rs) => [...rs, { key: "", value: "", masked: false, uid: ++rowSeq }]);
            }}
          >
            Add variable
          </button>
          <Button type="submit" kind="primary" busy={save.busy} disabled={!dirty}>
            Save and redeploy
          </Button>
          {dirty && (
            <button
              type="button"
              class="btn"
              onClick={() => {
                setDirty(false);
                env.reload();
                setRows(
                  env.data!.map((v) => ({
                    key: v.key,
                    value: v.value === MASK ? "" : v.value,
                    masked: v.value === MASK,
                    uid: ++rowSeq,
                  })),
                );
              }}
            >
              Discard changes
            </button>
          )}
        </div>
        <ErrorNote err={shownAtRow ? null : err} />
        {saved && !dirty && (
          <p class="note ok" role="status">
            {saved}
          </p>
        )}
      </form>
    </div>
  );
}

/**
 * What the rows change against the loaded list, as PATCH's body: new or edited values in `set`, removed names in
 * `unset`. A hidden row left empty keeps its stored value (it is neither sent nor unset); under a new name it has
 * no value to move, so it must be typed.
 */
export function envPatch(
  loaded: { key: string; value: string }[],
  rows: Array<Row & { uid?: number }>,
): { set?: Record<string, string>; unset?: string[] } {
  const before = new Map(loaded.map((v) => [v.key, v.value]));
  const set: Record<string, string> = {};
  const kept = new Set<string>();
  for (const r of rows) {
    const key = r.key.trim();
    if (!key) continue;
    const where = r.uid === undefined ? key : `row:${r.uid}`;
    if (kept.has(key)) throw new ApiError(400, "validation_error", `${key} appears twice.`, where);
    kept.add(key);
    if (r.masked && r.value === "") {
      if (before.get(key) !== MASK)
        throw new ApiError(
          400,
          "validation_error",
          `${key} has no value: a hidden value stays with its own name, so type the value for ${key}.`,
          where,
        );
      continue;
    }
    if (r.value === MASK)
      throw new ApiError(400, "validation_error", `"${MASK}" is the mask, not a value: type the real value of ${key}.`, where);
    if (before.get(key) !== r.value) set[key] = r.value;
  }
  const unset = [...before.keys()].filter((k) => !kept.has(k));
  return { ...(Object.keys(set).length ? { set } : {}), ...(unset.length ? { unset } : {}) };
}
