// `staxa deploy <tenant>`: starts a deployment and follows the tenant's SSE stream stage by stage;
// exit 0 when it reaches ready, 1 when it fails.
import type { Flags } from "../args.ts";
import type { ApiClient } from "./http.ts";
import type { Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface StageEvent {
  id: number;
  deployment_id: string | null;
  stage: string;
  status: string;
  message: string;
  timestamp: string;
}

const MARK: Record<string, string> = {
  started: "→",
  running: "→",
  info: "·",
  done: "✓",
  succeeded: "✓",
  ok: "✓",
  failed: "✗",
  error: "✗",
};

export async function deployCommand(api: ApiClient, out: Out, flags: Flags): Promise<number> {
  const tenantId = await resolveTenant(api, flags.positionals[0]);
  const body: Record<string, string> = {};
  const branch = flags.string("branch");
  const commit = flags.string("commit");
  if (branch) body.branch = branch;
  if (commit) body.commit_sha = commit;
  flags.done();
  const dep = (await api.call("POST", `/tenants/${tenantId}/deployments`, body))!.data as { id: string; status: string };
  if (!out.json) out.write(`deployment ${dep.id} queued\n`);
  return followDeployment(api, out, tenantId, dep.id);
}

/** Follows events until deployment `depId` (or, if undefined, the first one seen) ends; reconnects with Last-Event-ID. */
export async function followDeployment(api: ApiClient, out: Out, tenantId: string, depId: string | undefined): Promise<number> {
  const t0 = Date.now();
  let lastId: string | undefined;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      for await (const msg of api.sse(`/tenants/${tenantId}/events`, lastId)) {
        if (msg.id) lastId = msg.id;
        let e: StageEvent;
        try {
          e = JSON.parse(msg.data);
        } catch {
          continue;
        }
        if (!e.deployment_id || (depId && e.deployment_id !== depId)) continue;
        depId ??= e.deployment_id;
        if (out.json) out.write(JSON.stringify(e) + "\n");
        else
          out.write(
            `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${MARK[e.status] ?? "·"} ${e.stage.padEnd(9)} ${e.message}\n`,
          );
        if (e.stage === "ready") return finish(out, depId, true);
        if (e.stage === "error") return finish(out, depId, false, e.message);
      }
    } catch (e) {
      if (attempt >= 29) throw e;
    }
    // The stream ended without our final event: ask the deployment itself before reconnecting.
    if (depId) {
      const d = (await api.call("GET", `/tenants/${tenantId}/deployments/${depId}`))!.data as {
        status: string;
        reason?: string | null;
      };
      if (d.status === "succeeded") return finish(out, depId, true);
      if (d.status === "failed") return finish(out, depId, false, d.reason ?? undefined);
    }
    await Bun.sleep(1000);
  }
  out.error("staxa: lost the event stream; check `staxa tenants get`\n");
  return 1;
}

function finish(out: Out, depId: string | undefined, ok: boolean, reason?: string): number {
  if (out.json)
    out.write(
      JSON.stringify({ deployment_id: depId, status: ok ? "succeeded" : "failed", ...(reason ? { reason } : {}) }) + "\n",
    );
  else if (ok) out.write(`deployment ${depId} succeeded\n`);
  else out.error(`deployment ${depId} failed${reason ? `: ${reason}` : ""}\n`);
  return ok ? 0 : 1;
}
