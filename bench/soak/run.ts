// bench/soak (issue 20): many deployments across 10 tenants (node, static and multi-stage SPA builds from the
// locally built test images; nothing is pulled), printing the disk the soak's images and build cache take after
// every 50 and at the end. Retention (STAXA_IMAGE_KEEP) must keep it flat: final <= 1.2x the figure after the first
// 50. Then a rollback to the 20th deployment, whose image retention removed long ago, must serve that version again.
// Run: bun run bench/soak/run.ts [--count 300] [--tenants 10]   (real Docker, a throwaway Caddy on ports 24700-24799)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { APPS, IMAGES, ensureImages } from "../build-cache/apps.ts";
import { startCaddy } from "../../test/support/caddy.ts";
import { teardownE2e, uniqueName } from "../../test/support/docker.ts";
import { e2eApp, git } from "../../test/support/e2e-app.ts";
import { soakDisk, type SoakDisk } from "./disk.ts";

const { values } = parseArgs({
  options: { count: { type: "string", default: "300" }, tenants: { type: "string", default: "10" } },
});
const COUNT = Number(values.count);
const TENANTS = Number(values.tenants);
if (!(COUNT >= 50 && TENANTS >= 1 && COUNT >= 20)) throw new Error("--count must be at least 50");
const PREFIX = uniqueName("soak");
const ADMIN = 24700 + Math.floor(Math.random() * 30) * 3;
const KINDS = ["node", "static", "spa"] as const;
type Kind = (typeof KINDS)[number];
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const BLOB_BYTES = 1024 * 1024;

/** The app of `kind` at version `v`: the version is in what it serves, so every deployment builds a new image. */
function files(kind: Kind, v: number): Record<string, string> {
  const f = { ...APPS[kind].files };
  if (kind === "node") f["server.js"] = f["server.js"]!.replace('"hello from node "', `"hello from node v${v} "`);
  if (kind === "static") f["index.html"] = `<h1>hello static v${v}</h1>\n`;
  // The SPA ships the blob in its output: its build stage and its image both carry one.
  if (kind === "spa")
    f["build.mjs"] =
      f["build.mjs"]!.replace("built spa", `built spa v${v}`) +
      'import { copyFileSync } from "node:fs";\ncopyFileSync("blob.bin", "dist/assets/blob.bin");\n';
  return f;
}
const marker = (kind: Kind, v: number) =>
  kind === "node" ? `hello from node v${v} ` : kind === "static" ? `hello static v${v}` : `built spa v${v}`;

async function commit(dir: string, kind: Kind, v: number): Promise<void> {
  for (const [p, text] of Object.entries(files(kind, v))) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  // 1 MB that does not compress or repeat: every version's image weighs something, as real assets do.
  writeFileSync(join(dir, "blob.bin"), randomBytes(BLOB_BYTES));
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "--allow-empty", "-m", `v${v}`);
}

await ensureImages();
const started = Math.floor(Date.now() / 1000) - 1;
const caddy = await startCaddy({ adminPort: ADMIN });
const httpPort = ADMIN + 1;
const h = await e2eApp({
  STAXA_BASE_DOMAIN: "soak.test",
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(httpPort),
  STAXA_HTTPS_PORT: String(ADMIN + 2),
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_ALLOW_PRIVATE_TARGETS: "1",
  STAXA_DRAIN_SEC: "0",
  STAXA_NODE_IMAGE: IMAGES.node,
  STAXA_STATIC_IMAGE: IMAGES.static,
  STAXA_HEALTH_TIMEOUT_SEC: "30",
});
const scratch = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
const tenants: Array<{ name: string; kind: Kind; dir: string; id: string; version: number }> = [];
const history: Array<{ n: number; tenant: number; depId: string; version: number }> = [];
const samples: Array<[number, SoakDisk]> = [];
let failed = 0;

async function finish(t: (typeof tenants)[number], depId: string, n: number, version: number): Promise<void> {
  const d = await h.waitDeployment(t.id, depId, 600_000);
  if (d.status !== "succeeded") {
    failed++;
    console.log(`  #${n} ${t.name} v${version} ${d.status}: ${d.reason}`);
  }
  history.push({ n, tenant: tenants.indexOf(t), depId, version });
}

try {
  for (let i = 0; i < TENANTS; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const dir = join(scratch, `t${i}`);
    mkdirSync(dir);
    await git(dir, "init", "-q", "-b", "main");
    tenants.push({ name: `${PREFIX}-${i}`, kind, dir, id: "", version: 0 });
  }
  const t0 = performance.now();
  const one = async (n: number) => {
    const t = tenants[(n - 1) % TENANTS]!;
    const version = ++t.version;
    await commit(t.dir, t.kind, version);
    const r = t.id
      ? await h.call("POST", `/api/v1/tenants/${t.id}/deployments`, {})
      : await h.call("POST", "/api/v1/tenants", { name: t.name, source_type: "github", repo_url: `file://${t.dir}` });
    if (r.status !== 202) throw new Error(`deploy ${t.name}: ${r.status} ${r.text}`);
    t.id ||= r.json.data.id;
    await finish(t, version === 1 ? r.json.data.deployments[0].id : r.json.data.id, n, version);
  };
  // In batches of 50, two deployments at a time (the default build slots; never two of one tenant), and the disk
  // measured between batches once everything (retention after each deploy included) has settled.
  for (let from = 1; from <= COUNT; from += 50) {
    const to = Math.min(COUNT, from + 49);
    let next = from;
    const worker = async () => {
      while (next <= to) await one(next++);
    };
    await Promise.all([worker(), worker()]);
    await h.ctx.deployer.queue.idle();
    const disk = await soakDisk(`staxa/${PREFIX}-`, started);
    samples.push([to, disk]);
    console.log(
      `after ${String(to).padStart(4)}: soak images ${mb(disk.imagesBytes)} (${disk.tags} tags) + build cache ${mb(disk.cacheBytes)} = ${mb(disk.imagesBytes + disk.cacheBytes)}; engine-wide ${mb(disk.engineBytes)}; ${failed} failed; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }

  const first = samples.find(([n]) => n === 50)![1];
  const last = samples.at(-1)![1];
  const ratio = (last.imagesBytes + last.cacheBytes) / (first.imagesBytes + first.cacheBytes);
  console.log(
    `final: ${mb(last.imagesBytes + last.cacheBytes)} after ${COUNT} deployments (${ratio.toFixed(2)}x the figure after 50; must be <= 1.20)`,
  );

  // The 20th deployment's image is long gone (its tenant deployed ~COUNT/TENANTS times since, keeping 5).
  const twentieth = history.find((x) => x.n === 20)!;
  const t = tenants[twentieth.tenant]!;
  const rb = await h.call("POST", `/api/v1/tenants/${t.id}/deployments/${twentieth.depId}/rollback`, {});
  if (rb.status !== 202) throw new Error(`rollback: ${rb.status} ${rb.text}`);
  const d = await h.waitDeployment(t.id, rb.json.data.id, 600_000);
  const served = await fetch(`http://127.0.0.1:${httpPort}/`, { headers: { host: `${t.name}.soak.test` } }).then((r) => r.text());
  const rolledBack = d.status === "succeeded" && served.includes(marker(t.kind, twentieth.version));
  console.log(
    `rollback to the 20th deployment (${t.name}, ${t.kind} v${twentieth.version}): ${d.status}${d.reason ? ` (${d.reason})` : ""}, serves ${rolledBack ? "that version" : JSON.stringify(served.slice(0, 80))}`,
  );
  if (failed || ratio > 1.2 || !rolledBack) process.exitCode = 1;
} finally {
  for (const t of tenants) if (t.id) await h.call("DELETE", `/api/v1/tenants/${t.id}`);
  await h.ctx.deployer.queue.idle();
  await teardownE2e(PREFIX, caddy, [scratch, h.dataDir]);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
