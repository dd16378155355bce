// Node agents (`staxa agent`) for a lab swarm: each runs in its node's network namespace (nsenter --net=, as
// swarm-lab.ts runs the node's dockerd), against that node's engine socket, polling the appliance at `manager`.
// The token goes in the environment (STAXA_AGENT_TOKEN), as a systemd EnvironmentFile would put it.
import { join } from "node:path";
import type { LabNode } from "./swarm-lab.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");

export interface LabAgent {
  node: LabNode;
  /** What the agent wrote to stderr so far (it never prints its token). */
  log(): string;
  /** Resolves once a line matching `re` has been written after `from` characters of the log. */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startLabAgent(node: LabNode, manager: string, token: string, intervalSec = 1): LabAgent {
  const argv = ["nsenter", `--net=/run/netns/${node.netns}`, process.execPath, MAIN, "agent"];
  const p = Bun.spawn([...argv, "--manager", manager, "--docker-socket", node.socket, "--interval-sec", String(intervalSec)], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STAXA_AGENT_TOKEN: token },
  });
  let text = "";
  void (async () => {
    const dec = new TextDecoder();
    const reader = (p.stderr as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
  })();
  return {
    node,
    log: () => text,
    async waitFor(re, timeoutMs = 20_000, from = 0) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (re.test(text.slice(from))) return;
        if (p.exitCode !== null) break;
        await Bun.sleep(100);
      }
      throw new Error(`agent on ${node.name}: no ${re} within ${timeoutMs} ms (exit ${p.exitCode}); log:\n${text.slice(-2000)}`);
    },
    async stop() {
      p.kill("SIGTERM");
      await Promise.race([p.exited, Bun.sleep(5000)]);
      if (p.exitCode === null) p.kill("SIGKILL");
    },
  };
}
