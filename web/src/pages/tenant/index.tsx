/** @jsxImportSource preact */
// The tenant page: header, tabs, and the one SSE subscription every tab shares (refetch on events).
import { useEffect, useRef, useState } from "preact/hooks";
import { seg } from "../../api.ts";
import { useApi } from "../../hooks.ts";
import { openStream } from "../../stream.ts";
import { Badge, ErrorNote, Link, Loading } from "../../components/ui.tsx";
import type { PipelineEvent } from "../../components/stepper.tsx";
import { Overview } from "./overview.tsx";
import { Deployments } from "./deployments.tsx";
import { Logs } from "./logs.tsx";
import { EnvEditor } from "./env.tsx";
import { Services } from "./services.tsx";
import { Domains } from "./domains.tsx";
import { NetworkRules } from "./network.tsx";
import { Settings } from "./settings.tsx";
import { Jobs } from "./jobs.tsx";
import { UsageTab } from "./usage.tsx";
import { Backups } from "./backups.tsx";
import { Previews, type PreviewMark } from "./previews.tsx";
import { serves } from "../../tenant-state.ts";

export interface Service {
  id: string;
  name: string;
  source_type: string;
  repo_url: string | null;
  branch: string | null;
  image_url: string | null;
  status: string;
  is_primary: boolean;
  is_routable: boolean;
  port: number | null;
  resource_size: string;
  host: string | null;
  volumes?: { name: string; mount_path: string }[];
  /** Containers wanted, and recorded as serving (fewer while a scale or repair is under way). */
  replicas?: number;
  replicas_running?: number;
}
export interface Deployment {
  id: string;
  service_name: string;
  status: string;
  reason: string | null;
  trigger: string | null;
  branch: string | null;
  commit_sha: string | null;
  image: string | null;
  rollback_from: string | null;
  created_at: string;
  finished_at: string | null;
}
export interface Tenant {
  id: string;
  name: string;
  display_name: string | null;
  status: string;
  status_reason: string | null;
  url: string;
  events_url: string;
  source_type: string | null;
  repo_url: string | null;
  branch: string | null;
  image_url: string | null;
  resource_size: string;
  app_port: number | null;
  egress_mode: string;
  services: Service[];
  deployments: Deployment[];
  /** Set when this tenant is a pull request preview. */
  preview?: PreviewMark | null;
  created_at: string;
  updated_at: string;
}

/** What every tab gets: the tenant, its events, a counter that moves when something changed. */
export interface TabProps {
  tenant: Tenant;
  base: string;
  events: PipelineEvent[];
  changed: number;
  reload: () => void;
}

const TABS: [string, string][] = [
  ["overview", "Overview"],
  ["deployments", "Deployments"],
  ["logs", "Logs"],
  ["env", "Environment"],
  ["services", "Services"],
  ["domains", "Domains"],
  ["network", "Network rules"],
  ["jobs", "Jobs"],
  ["usage", "Usage"],
  ["backups", "Backups"],
  ["previews", "Previews"],
  ["settings", "Settings"],
];

export function TenantPage(props: { id: string; tab: string }) {
  const base = `/tenants/${seg(props.id)}`;
  const tenant = useApi<Tenant>(base);
  const [events, setEvents] = useState<PipelineEvent[]>([]);
  const [changed, setChanged] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // One follow=true stream per tenant page; resumes with Last-Event-ID after a drop.
  useEffect(() => {
    setEvents([]);
    const h = openStream(`${base}/events?follow=true`, {
      reconnect: true,
      onMessage: (m) => {
        let e: PipelineEvent;
        try {
          e = JSON.parse(m.data);
        } catch {
          return;
        }
        if (!e || typeof e.stage !== "string") return;
        setEvents((old) => (old.some((x) => x.id === e.id) ? old : [...old.slice(-499), e]));
        // Coalesce bursts of events into one refetch of what the page shows.
        clearTimeout(timer.current);
        timer.current = setTimeout(() => {
          tenant.reload();
          setChanged((n) => n + 1);
        }, 700);
      },
    });
    return () => {
      h.close();
      clearTimeout(timer.current);
    };
  }, [base]);

  const t = tenant.data;
  if (!t) {
    return (
      <section>
        <p>
          <Link href="/tenants">← Tenants</Link>
        </p>
        {tenant.loading ? <Loading what="tenant" /> : <ErrorNote err={tenant.error} />}
      </section>
    );
  }
  const tab = TABS.some(([k]) => k === props.tab) ? props.tab : "overview";
  const tp: TabProps = { tenant: t, base, events, changed, reload: tenant.reload };
  return (
    <section>
      <p>
        <Link href="/tenants">← Tenants</Link>
      </p>
      <div class="spread">
        <h1>
          {t.display_name || t.name} <Badge status={t.status} />
        </h1>
        {t.url && serves(t) && (
          <a class="btn" href={t.url} target="_blank" rel="noopener noreferrer">
            Open app ↗
          </a>
        )}
      </div>
      {t.status_reason && t.status === "failed" && <p class="note error">{t.status_reason}</p>}
      <nav class="tabs" aria-label="Tenant sections">
        {TABS.map(([k, label]) => (
          <Link
            href={`/tenants/${encodeURIComponent(t.id)}${k === "overview" ? "" : `/${k}`}`}
            aria-current={k === tab ? "page" : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
      {tab === "overview" && <Overview {...tp} />}
      {tab === "deployments" && <Deployments {...tp} />}
      {tab === "logs" && <Logs {...tp} />}
      {tab === "env" && <EnvEditor {...tp} />}
      {tab === "services" && <Services {...tp} />}
      {tab === "domains" && <Domains {...tp} />}
      {tab === "network" && <NetworkRules {...tp} />}
      {tab === "jobs" && <Jobs {...tp} />}
      {tab === "usage" && <UsageTab {...tp} />}
      {tab === "backups" && <Backups {...tp} />}
      {tab === "previews" && <Previews {...tp} mark={tp.tenant.preview ?? null} />}
      {tab === "settings" && <Settings {...tp} />}
    </section>
  );
}
