// Property test (issue 19): every operation of the OpenAPI document the app serves, driven with thousands of
// malformed requests carrying a valid API key — hostile path segments, query values, bodies and Content-Types.
// No answer may be a 5xx, and every 4xx carries the error envelope. FUZZ_SEED=<n> replays a run exactly;
// FUZZ_REQUESTS=<n> changes the count, FUZZ_TIMING=1 prints the slowest operations and the statuses seen,
// FUZZ_TRACE=1 prints each request before it is sent (the last one printed is the one that hangs).
import { afterAll, expect, test } from "bun:test";
import { BODIES, buildObjects, matrixApp, PARAMS, paramSlots, type Objects } from "../../support/matrix.ts";
import { CONTENT_TYPES, pathSegment, prng, queryValue, rawBody, type Rng } from "../../support/fuzz.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 6000);
const ANSWER_WITHIN_MS = 15_000;

type Op = { method: string; path: string; parameters?: Array<{ name: string; in: string; schema: any }>; requestBody?: any };
interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A fake v2 registry on loopback, so the registry routes reach their real code path instead of a refused port. */
const registry = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/v2/") return Response.json({});
    if (path === "/v2/_catalog") return Response.json({ repositories: ["app"] });
    if (/\/tags\/list$/.test(path)) return Response.json({ name: "app", tags: ["latest"] });
    return Response.json({ errors: [{ code: "NAME_UNKNOWN" }] }, { status: 404 });
  },
});
afterAll(() => registry.stop(true));

/**
 * One malformed request for `op`, built only from `r` (so the seed reproduces it). Half the requests break one
 * thing only — one path segment, one query parameter or the body — with the rest valid, so a fault deep in a
 * handler is not hidden behind another field's 400; the other half break everything at once.
 */
function generate(r: Rng, method: string, path: string, op: Op, objects: Objects): Sent {
  const elysiaPath = path.replace(/\{(\w+)\}/g, ":$1");
  const slots = paramSlots(elysiaPath);
  const queryParams = (op.parameters ?? []).filter((p) => p.in === "query");
  const hasBody = method !== "GET" && method !== "DELETE";
  const dims = [...slots.map((s) => `path ${s.key}`), ...queryParams.map((p) => `query ${p.name}`), ...(hasBody ? ["body"] : [])];
  const only = dims.length && r.chance(0.5) ? r.pick(dims) : undefined;
  const breaks = (dim: string) => only === undefined || only === dim;
  let url = elysiaPath;
  for (const slot of slots) {
    const real = PARAMS[slot.key]?.fill(objects);
    url = url.replace(slot.segment, breaks(`path ${slot.key}`) ? pathSegment(r, real) : encodeURIComponent(real ?? "x"));
  }
  const query: string[] = [];
  for (const p of queryParams) {
    if (!breaks(`query ${p.name}`) || (only === undefined && r.chance(0.4))) continue;
    query.push(`${r.chance(0.1) ? `${p.name}[]` : p.name}=${queryValue(r, p.schema ?? {})}`);
    if (r.chance(0.1)) query.push(`${p.name}=${queryValue(r, p.schema ?? {})}`); // repeated
  }
  if (only === undefined && r.chance(0.1))
    query.push(`${r.pick(["unknown", "%00", "a[b][c]", "__proto__"])}=${queryValue(r, {})}`);
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (hasBody && !breaks("body")) {
    const valid = BODIES[`${method} ${elysiaPath}`];
    if (valid !== undefined) ((body = JSON.stringify(valid)), (headers["content-type"] = "application/json"));
  } else if (hasBody ? r.chance(0.9) : r.chance(0.1)) {
    body = rawBody(r, op.requestBody?.content?.["application/json"]?.schema);
    const type = r.pick(CONTENT_TYPES);
    if (type !== undefined) headers["content-type"] = type;
  }
  return { method, url: url + (query.length ? `?${query.join("&")}` : ""), headers, body };
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
async function violation(res: Response): Promise<string | undefined> {
  if (res.status < 400) {
    await res.body?.cancel(); // a success may be a stream that never ends (logs and events with follow)
    return undefined;
  }
  const text = await res.text();
  if (res.status >= 500) return `status ${res.status}: ${text.slice(0, 300)}`;
  let e: any;
  try {
    e = JSON.parse(text).error;
  } catch {
    return `${res.status} without a JSON body: ${JSON.stringify(text.slice(0, 200))}`;
  }
  const ok =
    e &&
    typeof e.code === "string" &&
    typeof e.message === "string" &&
    e.details &&
    typeof e.details === "object" &&
    !Array.isArray(e.details);
  return ok ? undefined : `${res.status} without the error envelope: ${text.slice(0, 200)}`;
}

test(`every OpenAPI operation, ${TOTAL} malformed requests with a valid key: no 5xx, the envelope on every 4xx (FUZZ_SEED=${SEED})`, async () => {
  const m = matrixApp();
  const objects = await buildObjects(m, m.key, m.provider.id, "fuzz", "s3cret-fuzz");
  await m.send(m.key, "PATCH", `/api/v1/registries/${objects.credId}`, { registry_url: `http://127.0.0.1:${registry.port}` });
  const doc = (await m.send(m.key, "GET", "/api/v1/openapi.json")).json;
  // Deletions last, so the objects they remove serve every other operation first.
  const ops = Object.entries<Record<string, Op>>(doc.paths)
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })))
    .sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"));
  expect(ops.length).toBeGreaterThan(60);
  const perOp = Math.ceil(TOTAL / ops.length);
  const r = prng(SEED);
  const failures: string[] = [];
  const seen = new Map<string, number>();
  let sent = 0;
  const slow: string[] = [];
  for (const { method, path, op } of ops) {
    const started = performance.now();
    for (let i = 0; i < perOp; i++) {
      const req = generate(r, method, path, op, objects);
      const headers = { authorization: `Bearer ${m.key}`, ...req.headers };
      if (process.env.FUZZ_TRACE)
        console.error(
          `> ${req.method} ${req.url.slice(0, 200)} ${JSON.stringify(req.headers)} ${JSON.stringify(req.body?.slice(0, 200))} (${req.body?.length})`,
        );
      const answer = m.app.handle(new Request(`http://localhost${req.url}`, { method: req.method, headers, body: req.body }));
      // A request that holds the event loop or never answers is a denial of service: reported, not waited for.
      const res = await Promise.race([answer, Bun.sleep(ANSWER_WITHIN_MS).then(() => undefined)]);
      sent++;
      const where = `#${sent} ${req.method} ${req.url.slice(0, 300)} ${JSON.stringify(req.headers)} body=${JSON.stringify(req.body?.slice(0, 300))}`;
      if (!res) {
        failures.push(`${where} → no answer within ${ANSWER_WITHIN_MS} ms`);
        break;
      }
      seen.set(`${res.status}`, (seen.get(`${res.status}`) ?? 0) + 1);
      const why = await violation(res);
      if (why && failures.length < 20) failures.push(`${where} → ${why}`);
    }
    if (process.env.FUZZ_TIMING) slow.push(`${(performance.now() - started).toFixed(0).padStart(6)} ms ${method} ${path}`);
  }
  if (slow.length) console.error(slow.sort().reverse().slice(0, 15).join("\n"), Object.fromEntries(seen));
  await m.idle();
  if (failures.length) console.error(`fuzz-openapi: FUZZ_SEED=${SEED} reproduces these:\n${failures.join("\n")}`);
  expect(sent).toBeGreaterThanOrEqual(Math.min(TOTAL, 5000));
  expect([...seen.keys()].some((s) => s.startsWith("2"))).toBe(true); // the real ids let some requests through
  expect(failures).toEqual([]);
}, 180_000); // about 25 s on an idle 2-core machine; the margin is for a loaded CI runner
