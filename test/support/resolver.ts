// Starts `staxa resolver` as its own process for a test appliance, as systemd would beside `staxa serve`.
import { join } from "node:path";

const MAIN = join(import.meta.dir, "../../src/main.ts");

export interface TestResolver {
  port: number;
  pid: number;
  /** SIGKILL, as a crash would (the test may start another on the same port). */
  kill(): Promise<void>;
}

/**
 * Spawns the resolver with `env` (STAXA_DATA_DIR at least); STAXA_RESOLVER_PORT unset or 0 takes a free port, read
 * back from its first line. It ends with the test process (its stdin closes), or once its data dir is deleted.
 */
export async function startResolver(env: Record<string, string | undefined>, bin?: string): Promise<TestResolver> {
  const proc = Bun.spawn(bin ? [bin, "resolver"] : [process.execPath, "run", MAIN, "resolver"], {
    env: { ...process.env, STAXA_RESOLVER_PORT: "0", ...env },
    stdin: "pipe", // it ends when this process does, however it ends
    stdout: "pipe",
    stderr: Bun.file(join(env.STAXA_DATA_DIR ?? "/tmp", "resolver.log")),
  });
  const kill = () => proc.kill("SIGKILL");
  process.once("exit", kill);
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (!/listening on 127\.0\.0\.1:\d+\n/.test(text)) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => undefined)]);
    if (!chunk || chunk.done) {
      proc.kill("SIGKILL");
      throw new Error(
        `staxa resolver did not start (exit ${proc.exitCode}); see ${join(env.STAXA_DATA_DIR ?? "/tmp", "resolver.log")}`,
      );
    }
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)![1]);
  return {
    port,
    pid: proc.pid,
    async kill() {
      kill();
      process.removeListener("exit", kill);
      await proc.exited;
    },
  };
}
