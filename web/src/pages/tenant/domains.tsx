/** @jsxImportSource preact */
// Custom domains: add (primary, target service), the exact records the API asks for (TXT ownership +
// A/AAAA or CNAME pointing), verify with each record's "expected vs found" in words, SSL and DNS status.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, Select, When, txt } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

export interface DnsRecord {
  type: string;
  name: string;
  value: string;
}
export interface Domain {
  id: string;
  domain: string;
  is_primary?: boolean;
  verified?: boolean;
  ssl_status?: string | null;
  dns_status?: string | null;
  service_id?: string | null;
  verification?: { type?: string; name?: string; value?: string; token?: string; pointing?: DnsRecord[] };
  dns_records?: DnsRecord[];
  ssl_expires_at?: string | null;
  last_checked_at?: string | null;
}
interface DomainList {
  domains: Domain[];
  server_ip?: string;
}
/** One record of a failed verification (error.details.records of the 422). */
export interface RecordCheck {
  type: string;
  name: string;
  expected: string;
  found?: string[];
  ok: boolean;
  error?: string;
}

/** The records to create, as the API states them: the TXT ownership record, then the pointing choices. */
export function recordsOf(d: Domain): { ownership: DnsRecord | null; pointing: DnsRecord[] } {
  const v = d.verification;
  if (v?.type && v.name && v.value)
    return { ownership: { type: v.type, name: v.name, value: v.value }, pointing: Array.isArray(v.pointing) ? v.pointing : [] };
  // An older appliance lists plain dns_records: TXT is ownership, the rest pointing.
  const all = Array.isArray(d.dns_records) ? d.dns_records : [];
  return { ownership: all.find((r) => r.type === "TXT") ?? null, pointing: all.filter((r) => r.type !== "TXT") };
}

/** One record check in words: what was expected, what DNS answered. */
export function checkWords(c: RecordCheck): string {
  const what = `${c.type} ${c.name}`;
  if (c.ok) return `${what}: found ${c.expected} as expected.`;
  const found = c.found?.length ? c.found.join(", ") : c.error ? `nothing (the lookup failed: ${c.error})` : "no such record";
  return `${what}: expected ${c.expected}, found ${found}.`;
}

/** The checks carried by a verify failure, or none when the error is of another kind. */
export function checksOf(e: ApiError | null | undefined): RecordCheck[] {
  const recs = e?.details?.records;
  if (!Array.isArray(recs)) return [];
  return recs.filter(
    (r): r is RecordCheck =>
      !!r && typeof r === "object" && typeof r.type === "string" && typeof r.name === "string" && typeof r.expected === "string",
  );
}

type Outcome = { ok: true; message: string } | { ok: false; error: ApiError };

export function Domains(p: TabProps) {
  const list = useApi<DomainList>(`${p.base}/domains`);
  useEffect(() => {
    if (p.changed) list.reload();
  }, [p.changed]);
  const [domain, setDomain] = useState("");
  const [primary, setPrimary] = useState(false);
  const [service, setService] = useState("");
  const [note, setNote] = useState("");
  const [outcome, setOutcome] = useState<Record<string, Outcome>>({});
  const [busyId, setBusyId] = useState<string | null>(null);
  const add = useAction(async () => {
    const body: Record<string, unknown> = { domain: domain.trim().toLowerCase(), is_primary: primary };
    if (service) body.service_id = service;
    const r = await api<Domain>("POST", `${p.base}/domains`, body);
    setNote(`Added ${r.data?.domain ?? domain.trim()}. Create its DNS records, then verify.`);
    setDomain("");
    setPrimary(false);
    list.reload();
  });
  const verify = async (d: Domain) => {
    setBusyId(d.id);
    try {
      const r = await api<Domain>("POST", `${p.base}/domains/${seg(d.id)}/verify`);
      const ssl = r.data?.ssl_status;
      setOutcome((o) => ({
        ...o,
        [d.id]: {
          ok: true,
          message: `Verified: DNS points here and the ownership record matches.${ssl ? ` Certificate: ${ssl}.` : ""}`,
        },
      }));
      list.reload();
    } catch (e) {
      setOutcome((o) => ({
        ...o,
        [d.id]: { ok: false, error: e instanceof ApiError ? e : new ApiError(0, "unknown", "Something went wrong. Try again.") },
      }));
    } finally {
      setBusyId(null);
    }
  };
  const del = useAction(async (d: Domain) => {
    await api("DELETE", `${p.base}/domains/${seg(d.id)}`);
    setNote(`Removed ${d.domain}.`);
    list.reload();
  });
  const domains = list.data?.domains ?? [];
  const routable = p.tenant.services.filter((s) => s.is_routable);

  return (
    <div class="card">
      <h2>Custom domains</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
        noValidate
      >
        <div class="row">
          <Field label="Domain" name="domain" value={domain} err={add.error} placeholder="app.example.com" onValue={setDomain} />
          {routable.length > 1 && (
            <Select
              label="Served by"
              name="service_id"
              value={service}
              err={add.error}
              onValue={setService}
              options={[
                ["", "the primary service"],
                ...routable.filter((s) => !s.is_primary).map((s) => [s.name, s.name] as [string, string]),
              ]}
            />
          )}
        </div>
        <label class="check">
          <input
            type="checkbox"
            name="is_primary"
            checked={primary}
            onChange={(e) => setPrimary((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Primary domain (the tenant's URL once verified)
        </label>
        <ErrorNote err={add.error} fields={["domain", "service_id"]} />
        <div class="actions">
          <Button type="submit" kind="primary" busy={add.busy}>
            Add domain
          </Button>
        </div>
      </form>
      <ErrorNote err={del.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {list.loading && !list.data && <Loading what="domains" />}
      {list.data && domains.length === 0 && (
        <p class="muted">No custom domains. The app is always served at {txt(p.tenant.url)}.</p>
      )}
      {domains.map((d) => (
        <DomainCard
          d={d}
          outcome={outcome[d.id]}
          busy={busyId === d.id}
          deleting={del.busy}
          onVerify={() => void verify(d)}
          onDelete={() => {
            if (confirm(`Remove ${d.domain}?`)) void del.run(d);
          }}
        />
      ))}
    </div>
  );
}

function DomainCard(props: {
  d: Domain;
  outcome?: Outcome;
  busy: boolean;
  deleting: boolean;
  onVerify: () => void;
  onDelete: () => void;
}) {
  const { d, outcome } = props;
  const { ownership, pointing } = recordsOf(d);
  const rows: [string, DnsRecord][] = [
    ...(ownership ? [["Ownership", ownership] as [string, DnsRecord]] : []),
    ...pointing.map((r, i) => [i === 0 ? "Pointing" : "Pointing (alternative)", r] as [string, DnsRecord]),
  ];
  const checks = outcome && !outcome.ok ? checksOf(outcome.error) : [];
  return (
    <section class="card domain" aria-label={d.domain}>
      <div class="spread">
        <h3>
          {d.domain} {d.is_primary && <span class="badge neutral">primary</span>}
        </h3>
        <div class="actions" style="margin:0">
          <span>
            Ownership: <Badge status={d.verified ? "verified" : "unverified"} />
          </span>
          <span>
            DNS: <Badge status={d.dns_status ?? "not checked"} />
          </span>
          <span>
            SSL: <Badge status={d.ssl_status ?? "pending"} />
          </span>
        </div>
      </div>
      <p class="muted">
        Served by {d.service_id ? <strong>{d.service_id}</strong> : "the primary service"}
        {d.last_checked_at && (
          <>
            {" "}
            · last checked <When at={d.last_checked_at} />
          </>
        )}
        {d.ssl_expires_at && (
          <>
            {" "}
            · certificate until <When at={d.ssl_expires_at} />
          </>
        )}
      </p>
      {!d.verified && (
        <p class="muted">Create the ownership record and one of the pointing records at your DNS provider, then verify:</p>
      )}
      <div class="table-wrap">
        <table class="stack dns">
          <thead>
            <tr>
              <th>Purpose</th>
              <th>Type</th>
              <th>Name</th>
              <th>Value</th>
              <th>
                <span class="sr-only">Copy</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([purpose, r]) => (
              <tr>
                <td data-label="Purpose">{purpose}</td>
                <td data-label="Type">{r.type}</td>
                <td data-label="Name">
                  <code>{r.name}</code>
                </td>
                <td data-label="Value">
                  <code>{txt(r.value)}</code>
                </td>
                <td>
                  <CopyButton text={r.value} label={`Copy ${r.type} value`} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {outcome?.ok && (
        <p class="note ok" role="status">
          {outcome.message}
        </p>
      )}
      {outcome && !outcome.ok && (
        <div class="note error verify-result" role="alert">
          {checks.length ? (
            <>
              <p>Not verified: DNS does not show these records yet (changes can take a while to propagate).</p>
              <ul>
                {checks.map((c) => (
                  <li class={c.ok ? "check-ok" : "check-bad"}>
                    {c.ok ? "✓ " : "✗ "}
                    {checkWords(c)}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>{outcome.error.message}</p>
          )}
        </div>
      )}
      <div class="actions">
        <Button kind="primary" busy={props.busy} onClick={props.onVerify}>
          Verify
        </Button>
        <Button busy={props.deleting} onClick={props.onDelete}>
          Remove
        </Button>
      </div>
    </section>
  );
}
