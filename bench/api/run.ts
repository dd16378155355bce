// Benchmark: GET /api/v1/account with a valid key vs a bare Elysia hello-world, both under wrk at 64
// connections in ONE run on this machine; prints requests/sec and the ratio (target >= 0.5).
// Usage: bun run bench/api/run.ts [--duration 4] [--rounds 9] [--connections 64]
// The two are measured in alternating pairs (hello, account, then account, hello, ...) and the median
// of the pairs' ratios is the result: on a shared machine one long run each drifts with the load.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const DURATION = arg("duration", 4);
const ROUNDS = arg("rounds", 9);
const CONNECTIONS = arg("connections", 64);
const THREADS = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
const TARGET = 0.5;

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (
      await fetch(url, { headers }).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer 200 within 20 s`);
}

/** CPU time (user + system) a process has used so far, in µs, from /proc (Linux; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * Runs wrk against the server process `pid`; returns requests/sec and the server's CPU µs per request.
 * Refuses a run with non-2xx answers (they would flatter the number).
 */
async function wrk(
  pid: number,
  url: string,
  seconds: number,
  headers: string[] = [],
): Promise<{ rps: number; cpuPerReq: number }> {
  const argv = ["wrk", `-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, ...headers.flatMap((h) => ["-H", h]), url];
  const cpu0 = cpuMicros(pid);
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  const cpu = cpuMicros(pid) - cpu0;
  if (code !== 0) throw new Error(`wrk failed (${code}): ${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`${non2xx[1]} error responses from ${url}:\n${out}`);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const n = /(\d+) requests in/.exec(out);
  if (!m || !n) throw new Error(`could not read wrk output:\n${out}`);
  return { rps: Number(m[1]), cpuPerReq: cpu / Number(n[1]) };
}

const dir = mkdtempSync(join(tmpdir(), "staxa-bench-"));
const appPort = freePort();
const helloPort = freePort();
const env = {
  ...process.env,
  STAXA_DATA_DIR: dir,
  STAXA_PORT: String(appPort),
  STAXA_HOST: "127.0.0.1",
  STAXA_RATE_LIMIT_SCALE: "100000",
  STAXA_MANAGE_CADDY: "0",
  STAXA_LOG_LEVEL: "warn",
};
const children: Array<ReturnType<typeof Bun.spawn>> = [];

try {
  const created = Bun.spawnSync(["bun", "run", "src/main.ts", "admin", "create-key", "--email", "bench@example.com"], {
    cwd: ROOT,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (created.exitCode !== 0) throw new Error(`create-key failed: ${created.stderr.toString()}`);
  const key = created.stdout.toString().trim();
  const auth = `Authorization: Bearer ${key}`;

  const app = Bun.spawn(["bun", "run", "src/main.ts", "serve"], { cwd: ROOT, env, stdout: "ignore", stderr: "ignore" });
  const hello = Bun.spawn(["bun", "run", "bench/api/hello.ts", String(helloPort)], {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "ignore",
  });
  children.push(app, hello);
  const accountUrl = `http://127.0.0.1:${appPort}/api/v1/account`;
  const helloUrl = `http://127.0.0.1:${helloPort}/`;
  await waitFor(accountUrl, { authorization: `Bearer ${key}` });
  await waitFor(helloUrl);

  console.log(
    `bun ${Bun.version}, wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} alternating rounds, ${availableParallelism()} CPUs`,
  );
  await wrk(hello.pid, helloUrl, 2);
  await wrk(app.pid, accountUrl, 2, [auth]);
  const rounds: Array<{ hello: number; account: number; ratio: number; helloCpu: number; accountCpu: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const first = i % 2 === 0 ? "hello" : "account";
    const runHello = () => wrk(hello.pid, helloUrl, DURATION);
    const runAccount = () => wrk(app.pid, accountUrl, DURATION, [auth]);
    const a = await (first === "hello" ? runHello() : runAccount());
    const b = await (first === "hello" ? runAccount() : runHello());
    const [h, acc] = first === "hello" ? [a, b] : [b, a];
    rounds.push({ hello: h.rps, account: acc.rps, ratio: acc.rps / h.rps, helloCpu: h.cpuPerReq, accountCpu: acc.cpuPerReq });
    console.log(
      `round ${i + 1}: hello ${h.rps.toFixed(0).padStart(7)}  account ${acc.rps.toFixed(0).padStart(7)}  ratio ${(acc.rps / h.rps).toFixed(2)}` +
        `   (server CPU per request: ${h.cpuPerReq.toFixed(1)} / ${acc.cpuPerReq.toFixed(1)} µs)`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ratio = median(rounds.map((r) => r.ratio));
  console.log(
    `elysia hello-world        ${median(rounds.map((r) => r.hello))
      .toFixed(0)
      .padStart(8)} req/s (median), ${median(rounds.map((r) => r.helloCpu)).toFixed(1)} µs server CPU per request`,
  );
  console.log(
    `GET /api/v1/account (key) ${median(rounds.map((r) => r.account))
      .toFixed(0)
      .padStart(8)} req/s (median), ${median(rounds.map((r) => r.accountCpu)).toFixed(1)} µs server CPU per request`,
  );
  console.log(
    `ratio ${ratio.toFixed(2)} (median of ${ROUNDS} paired rounds; target >= ${TARGET}) ${ratio >= TARGET ? "OK" : "BELOW TARGET"}`,
  );
  process.exitCode = ratio >= TARGET ? 0 : 1;
} finally {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(dir, { recursive: true, force: true });
}
