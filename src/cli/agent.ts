// `staxa agent --manager URL --token T --docker-socket PATH [--interval-sec N]`: the node agent of a swarm
// (src/agent/agent.ts). It needs no appliance settings: a node holds no store. The token may come from
// STAXA_AGENT_TOKEN instead (a systemd EnvironmentFile keeps it out of the process list).
import type { Flags } from "./args.ts";
import { UsageError } from "./args.ts";
import { startAgent } from "../agent/agent.ts";

export async function agentCommand(flags: Flags): Promise<number> {
  const manager = flags.string("manager", { required: true })!;
  const token = flags.string("token") ?? process.env.STAXA_AGENT_TOKEN ?? "";
  const dockerSocket = flags.string("docker-socket") ?? "/var/run/docker.sock";
  const interval = Number(flags.string("interval-sec") ?? "2");
  flags.done();
  if (!/^https?:\/\/[^/]+/.test(manager)) throw new UsageError("--manager must be the appliance's http(s) URL");
  if (!token) throw new UsageError("--token (or STAXA_AGENT_TOKEN) is required: the join-token answer shows it");
  if (!(interval >= 0.2 && interval <= 300)) throw new UsageError("--interval-sec must be between 0.2 and 300");
  const stop = startAgent({ manager, token, dockerSocket, intervalMs: interval * 1000 });
  process.stderr.write(`staxa agent: polling ${new URL(manager).origin} every ${interval}s\n`);
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => resolve());
  });
  stop(); // the rules stay: a restarted agent reads them back, a stopped node keeps its isolation
  return 0;
}
