/** @jsxImportSource preact */
// Custom domains: add, the exact DNS records to create (A to server_ip, TXT ownership token), verify, SSL status.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, txt } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

interface DnsRecord { type: string; name: string; value: string }
interface Domain {
  id: string; domain: string; is_primary?: boolean; verified?: boolean; ssl_status?: string; service_id?: string | null;
  dns_records?: DnsRecord[]; verification?: Partial<DnsRecord> & { token?: string }; verification_token?: string; txt_name?: string; txt_value?: string;
  verification_error?: string | null; last_error?: string | null;
}
interface DomainList { domains: Domain[]; server_ip?: string }

/** The records to create, as the API gives them, else derived from server_ip and the TXT token fields. */
export function dnsRecords(d: Domain, serverIp: string | undefined): DnsRecord[] {
  if (Array.isArray(d.dns_records) && d.dns_records.length) return d.dns_records;
  const out: DnsRecord[] = [];
  if (serverIp) out.push({ type: serverIp.includes(":") ? "AAAA" : "A", name: d.domain, value: serverIp });
  const token = d.txt_value ?? d.verification?.value ?? d.verification?.token ?? d.verification_token;
  if (token) out.push({ type: "TXT", name: d.txt_name ?? d.verification?.name ?? `_staxa-verify.${d.domain}`, value: token });
  return out;
}

export function Domains(p: TabProps) {
  const list = useApi<DomainList | Domain[]>(`${p.base}/domains`);
  useEffect(() => { if (p.changed) list.reload(); }, [p.changed]);
  const [domain, setDomain] = useState("");
  const [primary, setPrimary] = useState(false);
  const [note, setNote] = useState("");
  const add = useAction(async () => {
    await api("POST", `${p.base}/domains`, { domain: domain.trim().toLowerCase(), is_primary: primary });
    setNote(`Added ${domain.trim()}. Create the DNS records below, then verify.`);
    setDomain("");
    list.reload();
  });
  const act = useAction(async (kind: "verify" | "delete", d: Domain) => {
    if (kind === "verify") {
      const r = await api<Domain>("POST", `${p.base}/domains/${seg(d.id)}/verify`);
      setNote(r.data?.verified ? `${d.domain} is verified; the certificate is ${r.data.ssl_status ?? "being provisioned"}.` : `${d.domain} is not verified yet: check the DNS records (changes can take a while to propagate).`);
    } else {
      await api("DELETE", `${p.base}/domains/${seg(d.id)}`);
      setNote(`Removed ${d.domain}.`);
    }
    list.reload();
  });
  const data = list.data;
  const domains = Array.isArray(data) ? data : data?.domains ?? [];
  const serverIp = Array.isArray(data) ? undefined : data?.server_ip;

  if (list.error?.unavailable) return <div class="card"><h2>Domains</h2><ErrorNote err={list.error} /></div>;
  return (
    <div class="card">
      <h2>Custom domains</h2>
      <form class="row" onSubmit={(e) => { e.preventDefault(); void add.run(); }} noValidate>
        <Field label="Domain" name="domain" value={domain} err={add.error} placeholder="app.example.com" onValue={setDomain} />
        <label class="check"><input type="checkbox" checked={primary} onChange={(e) => setPrimary((e.currentTarget as HTMLInputElement).checked)} /> Primary</label>
        <Button type="submit" kind="primary" busy={add.busy}>Add domain</Button>
      </form>
      <ErrorNote err={add.error} fields={["domain"]} />
      <ErrorNote err={act.error ?? list.error} />
      {note && <p class="note ok" role="status">{note}</p>}
      {list.loading && !data && <Loading what="domains" />}
      {data && domains.length === 0 && <p class="muted">No custom domains. The app is always served at {p.tenant.url}.</p>}
      {domains.map((d) => (
        <section class="card" aria-label={d.domain}>
          <div class="spread">
            <h3>{d.domain} {d.is_primary && <span class="badge neutral">primary</span>}</h3>
            <div class="actions" style="margin:0">
              <Badge status={d.verified ? "verified" : "pending"} />
              <span>SSL: <Badge status={d.ssl_status ?? "pending"} /></span>
            </div>
          </div>
          {(d.verification_error || d.last_error) && <p class="note error">{d.verification_error || d.last_error}</p>}
          <p class="muted">Create these records at your DNS provider:</p>
          <div class="table-wrap">
            <table class="stack dns">
              <thead><tr><th>Type</th><th>Name</th><th>Value</th><th><span class="sr-only">Copy</span></th></tr></thead>
              <tbody>
                {dnsRecords(d, serverIp).map((r) => (
                  <tr><td data-label="Type">{r.type}</td><td data-label="Name"><code>{r.name}</code></td><td data-label="Value"><code>{txt(r.value)}</code></td><td><CopyButton text={r.value} label={`Copy ${r.type} value`} /></td></tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="actions">
            <Button kind="primary" busy={act.busy} onClick={() => void act.run("verify", d)}>Verify</Button>
            <Button busy={act.busy} onClick={() => { if (confirm(`Remove ${d.domain}?`)) void act.run("delete", d); }}>Remove</Button>
          </div>
        </section>
      ))}
    </div>
  );
}
