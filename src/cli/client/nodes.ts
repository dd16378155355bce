// `staxa node ls|join-command|drain|activate|rm`: the servers of a swarm cluster (STAXA_ENGINE=swarm). On the
// single-host engine the appliance answers 409 not_clustered, which is shown as it says.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { fields, show, table, type Out } from "./output.ts";

interface Node {
  id: string;
  hostname: string;
  role: string;
  leader: boolean;
  address: string;
  availability: string;
  state: string;
  resources: { cpus: number; memory_bytes: number };
  tasks: Array<{ tenant: string; service: string; state: string }>;
}

interface JoinAnswer {
  argv: string[];
  agent_argv: string[];
  registry?: { address: string; ca_path: string; ca_pem: string };
}

/** An argument as a POSIX shell word: only for showing a command to a human, never run by us. */
const word = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
const line = (argv: string[]) => argv.map(word).join(" ");

/** What a new server runs, in order: trust the registry, join the swarm, start the node agent. */
export function joinScript(j: JoinAnswer): string {
  const steps: string[] = [];
  if (j.registry) {
    const dir = j.registry.ca_path.slice(0, j.registry.ca_path.lastIndexOf("/"));
    steps.push(
      "# 1. trust the cluster registry every node pulls from",
      line(["mkdir", "-p", dir]),
      `cat > ${word(j.registry.ca_path)} <<'EOF'\n${j.registry.ca_pem.trim()}\nEOF`,
    );
  }
  steps.push(`# ${j.registry ? 2 : 1}. join the swarm`, line(j.argv));
  steps.push(
    `# ${j.registry ? 3 : 2}. run the node agent (network rules and isolation on this node; a systemd unit)`,
    line(j.agent_argv),
  );
  return steps.join("\n") + "\n";
}

const KEYS = ["id", "hostname", "role", "address", "availability", "state"];

export async function nodeCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, id] = flags.positionals;
  const needId = () => {
    if (!id) throw new UsageError(`staxa node ${sub} NODE_ID`);
    return encodeURIComponent(id);
  };
  switch (sub) {
    case "ls": {
      flags.done();
      const rows = (await api.call("GET", "/nodes"))!.data as Node[];
      show(out, rows, () =>
        table(
          ["ID", "HOSTNAME", "ROLE", "ADDRESS", "AVAILABILITY", "STATE", "CPUS", "MEMORY", "TASKS"],
          rows.map((n) => [
            n.id,
            n.hostname,
            n.leader ? `${n.role} (leader)` : n.role,
            n.address,
            n.availability,
            n.state,
            n.resources.cpus,
            `${Math.round(n.resources.memory_bytes / 2 ** 20)} MiB`,
            n.tasks.map((t) => `${t.tenant}.${t.service}`).join(",") || "-",
          ]),
        ),
      );
      return 0;
    }
    case "join-command": {
      const role = flags.string("role") ?? "worker";
      flags.done();
      const j = (await api.call("POST", `/nodes/join-token?role=${encodeURIComponent(role)}`))!.data as JoinAnswer;
      // Printed for a human to run on the new server: the tokens are the cluster's secrets, shown only here.
      show(out, j, () => joinScript(j));
      return 0;
    }
    case "drain":
    case "activate": {
      const path = `/nodes/${needId()}/${sub}`;
      flags.done();
      const n = (await api.call("POST", path))!.data as Node;
      show(out, n, () => fields(n as unknown as Record<string, unknown>, KEYS));
      return 0;
    }
    case "rm": {
      const path = `/nodes/${needId()}${flags.bool("force") ? "?force=true" : ""}`;
      flags.done();
      await api.call("DELETE", path);
      if (!out.json) out.write(`node ${id} removed\n`);
      return 0;
    }
    default:
      throw new UsageError("staxa node ls|join-command|drain|activate|rm");
  }
}
