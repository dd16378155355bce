/** @jsxImportSource preact */
// Tenants: the list with status badges, search, status filter and pagination (state kept in the URL).
import { useEffect, useState } from "preact/hooks";
import { useApi } from "../hooks.ts";
import { navigate, useLocation } from "../router.ts";
import { Badge, ErrorNote, Link, Loading, When, txt } from "../components/ui.tsx";

export interface TenantSummary {
  id: string;
  name: string;
  display_name: string | null;
  status: string;
  /** Why the tenant is failed (null otherwise). */
  status_reason: string | null;
  url: string;
  /** Set on a pull request preview tenant. */
  preview?: { repo: string; pr_number: number } | null;
  created_at: string;
}

const STATUSES = ["", "provisioning", "deploying", "ready", "degraded", "failed", "deleting"];
const LIMIT = 20;

export function TenantsPage() {
  const url = useLocation();
  const q = url.searchParams;
  const search = q.get("search") ?? "";
  const status = q.get("status") ?? "";
  const offset = Math.max(0, Number(q.get("offset")) || 0);
  const [typed, setTyped] = useState(search);

  const setQuery = (next: Record<string, string | number>) => {
    const p = new URLSearchParams({
      search,
      status,
      offset: String(offset),
      ...Object.fromEntries(Object.entries(next).map(([k, v]) => [k, String(v)])),
    });
    for (const [k, v] of [...p]) if (!v || (k === "offset" && v === "0")) p.delete(k);
    const s = p.toString();
    navigate(`/tenants${s ? `?${s}` : ""}`, true);
  };

  // Search as you type, debounced: the list endpoint allows 60 requests a minute.
  useEffect(() => {
    if (typed === search) return;
    const t = setTimeout(() => setQuery({ search: typed, offset: 0 }), 350);
    return () => clearTimeout(t);
  }, [typed]);

  const params = new URLSearchParams({ limit: String(LIMIT), offset: String(offset) });
  if (search) params.set("search", search);
  if (status) params.set("status", status);
  const list = useApi<TenantSummary[]>(`/tenants?${params}`);
  const total = list.meta.total ?? list.data?.length ?? 0;

  return (
    <section data-state={list.data || list.error ? "ready" : "loading"}>
      <div class="spread">
        <h1>Tenants</h1>
        <Link href="/tenants/new" class="btn primary">
          New tenant
        </Link>
      </div>
      <form
        class="row card"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ search: typed, offset: 0 });
        }}
      >
        <div class="field">
          <label for="tenant-search">Search by name</label>
          <input
            id="tenant-search"
            type="search"
            value={typed}
            maxLength={63}
            onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="tenant-status">Status</label>
          <select
            id="tenant-status"
            value={status}
            onChange={(e) => setQuery({ status: (e.currentTarget as HTMLSelectElement).value, offset: 0 })}
          >
            {STATUSES.map((s) => (
              <option value={s}>{s || "any status"}</option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNote err={list.error} />
      {list.loading && !list.data && <Loading what="tenants" />}
      {list.data && list.data.length === 0 && (
        <div class="card">
          <p>{search || status ? "No tenant matches these filters." : "No tenants yet."}</p>
          {!search && !status && (
            <Link href="/tenants/new" class="btn primary">
              Create your first tenant
            </Link>
          )}
        </div>
      )}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap card">
          <table class="stack" aria-busy={list.loading}>
            <caption class="sr-only">Tenants</caption>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>URL</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((t) => (
                <tr>
                  <td data-label="Name">
                    <Link href={`/tenants/${encodeURIComponent(t.id)}`}>{t.name}</Link>
                    {t.preview && (
                      <span class="badge" title={`Preview of ${t.preview.repo} pull request #${t.preview.pr_number}`}>
                        PR #{t.preview.pr_number}
                      </span>
                    )}
                    {t.display_name && <div class="muted">{t.display_name}</div>}
                  </td>
                  <td data-label="Status">
                    <div>
                      <Badge status={t.status} />
                      {t.status_reason && t.status === "failed" && (
                        <p class="reason" title={t.status_reason}>
                          {t.status_reason}
                        </p>
                      )}
                    </div>
                  </td>
                  {/* The list has no services: only a ready (or degraded: fewer tasks, still serving) tenant is known to serve, so only its URL is a link. */}
                  <td data-label="URL">
                    {!t.url ? (
                      txt(null)
                    ) : t.status === "ready" || t.status === "degraded" ? (
                      <a href={t.url} target="_blank" rel="noopener noreferrer">
                        {t.url}
                      </a>
                    ) : (
                      <span class="muted">{t.url}</span>
                    )}
                  </td>
                  <td data-label="Created">
                    <When at={t.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button
              type="button"
              class="btn small"
              disabled={offset === 0}
              onClick={() => setQuery({ offset: Math.max(0, offset - LIMIT) })}
            >
              Previous
            </button>
            <span>
              {offset + 1}–{Math.min(offset + LIMIT, total)} of {total}
            </span>
            <button
              type="button"
              class="btn small"
              disabled={offset + LIMIT >= total}
              onClick={() => setQuery({ offset: offset + LIMIT })}
            >
              Next
            </button>
          </nav>
        </div>
      )}
    </section>
  );
}
