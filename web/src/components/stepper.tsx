/** @jsxImportSource preact */
// The deploy progress stepper, from SSE events: the stages in the order the API sends them (today provision →
// build → deploy → health → route → ready/error: the new container is checked before traffic moves to it).

/** One pipeline event as the SSE stream sends it. */
export interface PipelineEvent {
  id: number;
  deployment_id: string | null;
  service: string | null;
  stage: string;
  status: string;
  message: string;
  data: Record<string, unknown> | null;
  timestamp: string;
}

/** The pipeline's stages in the order the appliance runs them; a stage missing from a run sits at its place here. */
export const STAGES = ["provision", "build", "deploy", "health", "route", "ready"] as const;
type StepState = "pending" | "running" | "done" | "failed" | "skipped";

/** The latest deployment that has events, and the state of each stage for it. */
export function progressOf(events: PipelineEvent[]): {
  deploymentId: string | null;
  order: string[];
  steps: Record<string, { state: StepState; message: string }>;
  finished: "ready" | "error" | null;
} {
  const last = [...events].reverse().find((e) => e.deployment_id);
  const deploymentId = last?.deployment_id ?? null;
  const steps: Record<string, { state: StepState; message: string }> = {};
  for (const s of STAGES) steps[s] = { state: "pending", message: "" };
  let finished: "ready" | "error" | null = null;
  const arrived: string[] = [];
  for (const e of events) {
    if (!deploymentId || e.deployment_id !== deploymentId) continue;
    if (steps[e.stage] && !arrived.includes(e.stage)) arrived.push(e.stage);
    if (e.stage === "error") {
      finished = "error";
      const failed = typeof e.data?.failed_stage === "string" ? e.data.failed_stage : undefined;
      const at = failed && steps[failed] ? failed : (STAGES.find((s) => steps[s].state === "running") ?? "ready");
      steps[at] = { state: "failed", message: e.message };
      continue;
    }
    if (!steps[e.stage]) continue;
    const state: StepState = e.status === "done" ? "done" : e.status === "failed" ? "failed" : "running";
    steps[e.stage] = { state, message: e.message };
    if (e.stage === "ready") {
      finished = "ready";
      steps.ready.state = "done";
    }
  }
  const order = stageOrder(arrived);
  // A stage never reported while later ones ran was skipped (a rollback or env redeploy reuses the image).
  let later = false;
  for (const s of [...order].reverse()) {
    if (steps[s].state !== "pending") later = true;
    else if (later) steps[s].state = "skipped";
  }
  return { deploymentId, order, steps, finished };
}

/**
 * The stages as they arrived, each stage not (yet) seen placed after the one STAGES puts before it: the
 * stepper follows the API's order, and a stage still to come never shows before one already running.
 */
export function stageOrder(arrived: string[]): string[] {
  const order = [...arrived];
  for (const [i, s] of STAGES.entries()) {
    if (order.includes(s)) continue;
    const before = STAGES.slice(0, i)
      .reverse()
      .find((p) => order.includes(p));
    order.splice(before ? order.indexOf(before) + 1 : 0, 0, s);
  }
  return order;
}

const LABEL: Record<StepState, string> = {
  pending: "waiting",
  running: "in progress",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

export function Stepper(props: { events: PipelineEvent[] }) {
  const p = progressOf(props.events);
  if (!p.deploymentId) return <p class="muted">No deployment activity yet.</p>;
  return (
    <div>
      <p class="muted">
        Deployment <code>{p.deploymentId}</code>
      </p>
      <ol class="stepper" aria-label="Deployment progress">
        {p.order.map((s) => {
          const st = p.steps[s];
          const label = s === "ready" && st.state === "failed" ? "error" : s;
          return (
            <li class={st.state} aria-current={st.state === "running" ? "step" : undefined} title={st.message || undefined}>
              {label}
              <span class="st">{LABEL[st.state]}</span>
            </li>
          );
        })}
      </ol>
      {p.finished === "error" && (
        <p class="note error" role="alert">
          {Object.values(p.steps).find((x) => x.state === "failed")?.message || "The deployment failed."}
        </p>
      )}
    </div>
  );
}
