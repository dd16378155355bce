// Env vars (masking, validation, sealing, redeploy) and the SSE stream (ids, replay, end, disconnect).
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { isSecret, validateEnv } from "../../../src/core/env-vars.ts";
import { sseSettings } from "../../../src/api/realtime.ts";

const gitBody = (name: string) => ({ name, source_type: "github", repo_url: "https://example.com/acme/app.git" });

describe("env", () => {
  test.each([
    ["DB_PASSWORD", "x", true],
    ["API_KEY", "x", true],
    ["GITHUB_TOKEN", "x", true],
    ["PRIVATE_PEM", "x", true],
    ["AWS_CREDENTIALS", "x", true],
    ["client_secret", "x", true],
    ["DATABASE_URL", "postgres://u:p@db:5432/x", true],
    ["REDIS_URL", "redis://:tok@r:6379", true],
    ["DATABASE_URL", "postgres://db:5432/x", false],
    ["NODE_ENV", "production", false],
  ])("isSecret(%p, %p) = %p", (k, v, want) => expect(isSecret(k, v)).toBe(want));

  test.each([
    [{ "A=B": "1" }, "body"],
    [{ "A\nB": "1" }, "body"],
    [{ "": "1" }, "body"],
    [{ "1A": "1" }, "body"],
    [{ A: { b: 1 } }, "body.A"],
    [{ A: 1 }, "body.A"],
    [{ A: ["x"] }, "body.A"],
    [{ A: "a\0b" }, "body.A"],
    [{ LD_PRELOAD: "/x.so" }, "body.LD_PRELOAD"],
    [{ A: "x".repeat(40_000) }, "body.A"],
    [[], "body"],
  ])("refuses %j naming %s", (body, field) => {
    try {
      validateEnv(body, "body");
      throw new Error("accepted");
    } catch (e: any) {
      expect(e.details?.field).toBe(field);
    }
  });

  test("PUT replaces all, GET masks, values sealed at rest, a redeploy without build carries them", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("envy"))).json.data.id;
    await a.idle();
    const builds = a.runtime.builds.length;
    const put = await a.call("PUT", `/api/v1/tenants/${id}/env`, {
      NODE_ENV: "production",
      API_KEY: "sk-planted-secret-123",
      DATABASE_URL: "postgres://u:hunter2@db/x",
    });
    expect(put.status).toBe(202);
    expect(put.json.meta.deployment_ids).toHaveLength(1);
    expect(put.text).not.toContain("planted");
    await a.idle();
    const get = await a.call("GET", `/api/v1/tenants/${id}/env`);
    expect(get.json.data).toEqual([
      { key: "API_KEY", value: "****" },
      { key: "DATABASE_URL", value: "****" },
      { key: "NODE_ENV", value: "production" },
    ]);
    const raw = a.ctx.db.query("SELECT env_enc FROM tenants WHERE id = ?").get(id) as { env_enc: string };
    expect(raw.env_enc).not.toContain("planted");
    expect(a.runtime.builds.length).toBe(builds);
    const spec = [...a.runtime.containers.values()][0].spec;
    expect(spec.env).toMatchObject({ API_KEY: "sk-planted-secret-123", NODE_ENV: "production", PORT: "3000" });
    const events = JSON.stringify(a.ctx.db.query("SELECT * FROM events").all());
    expect(events).not.toContain("planted");
    await a.call("PUT", `/api/v1/tenants/${id}/env`, { ONLY: "one" });
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/env`)).json.data).toEqual([{ key: "ONLY", value: "one" }]);
    const bad = await a.call("PUT", `/api/v1/tenants/${id}/env`, { nested: { a: 1 } });
    expect([bad.status, bad.json.error.details.field]).toEqual([400, "body.nested"]);
    expect((await a.call("GET", `/api/v1/tenants/${id}/env`)).json.data).toEqual([{ key: "ONLY", value: "one" }]);
  });
});

async function readSse(res: Response, until: (text: string) => boolean, ms = 3000): Promise<{ text: string; ended: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => ({ timeout: true }) as any)]);
    if (r.timeout) break;
    if (r.done) return { text, ended: true };
    text += dec.decode(r.value);
    if (until(text)) break;
  }
  await reader.cancel();
  return { text, ended: false };
}

const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
const stages = (text: string) => [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]).stage);

describe("SSE /tenants/{id}/events", () => {
  test("streams the deployment's stages with ids and ends after ready", async () => {
    const a = await fakeApp();
    a.runtime.buildDelayMs = 50;
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("sse"))).json.data.id;
    const res = await a.app.handle(
      new Request(`http://localhost/api/v1/tenants/${id}/events`, {
        headers: { authorization: `Bearer ${a.key}`, accept: "text/event-stream" },
      }),
    );
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const { text, ended } = await readSse(res, () => false);
    expect(ended).toBe(true);
    expect(stages(text)).toEqual([
      "info",
      "provision",
      "provision",
      "build",
      "build",
      "build",
      "deploy",
      "deploy",
      "health",
      "health",
      "route",
      "route",
      "ready",
    ]);
    const got = ids(text);
    expect(got).toEqual([...got].sort((x, y) => x - y));
  });

  test("Last-Event-ID resumes after that id; a settled tenant's stream ends", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("resume"))).json.data.id;
    await a.idle();
    const all = await readSse(
      await a.app.handle(
        new Request(`http://localhost/api/v1/tenants/${id}/events`, { headers: { authorization: `Bearer ${a.key}` } }),
      ),
      () => false,
    );
    const evIds = ids(all.text);
    const mid = evIds[5];
    const res = await a.app.handle(
      new Request(`http://localhost/api/v1/tenants/${id}/events`, {
        headers: { authorization: `Bearer ${a.key}`, "last-event-id": String(mid) },
      }),
    );
    const rest = await readSse(res, () => false);
    expect(ids(rest.text)).toEqual(evIds.filter((x) => x > mid));
    expect(rest.ended).toBe(true);
    const q = await readSse(
      await a.app.handle(
        new Request(`http://localhost/api/v1/tenants/${id}/events?last_event_id=${mid}`, {
          headers: { authorization: `Bearer ${a.key}` },
        }),
      ),
      () => false,
    );
    expect(ids(q.text)).toEqual(evIds.filter((x) => x > mid));
    const bad = await a.call("GET", `/api/v1/tenants/${id}/events`, undefined, { "last-event-id": "abc" });
    expect(bad.status).toBe(400);
  });

  test("follow=true sends heartbeats and unsubscribes when the client goes away", async () => {
    const a = await fakeApp();
    sseSettings.heartbeatMs = 20;
    try {
      const id = (await a.call("POST", "/api/v1/tenants", gitBody("beat"))).json.data.id;
      await a.idle();
      const ac = new AbortController();
      const res = await a.app.handle(
        new Request(`http://localhost/api/v1/tenants/${id}/events?follow=true`, {
          headers: { authorization: `Bearer ${a.key}` },
          signal: ac.signal,
        }),
      );
      const { text } = await readSse(res, (t) => t.includes(": heartbeat"), 2000);
      expect(text).toContain(": heartbeat");
      expect((a.ctx.bus as any).subscribers.get(id)?.size ?? 0).toBe(0); // reader.cancel() → stream cancel → unsubscribed
    } finally {
      sseSettings.heartbeatMs = 15_000;
    }
  });
});

describe("logs", () => {
  test("GET /logs returns the live container's last lines as text; bad lines is 400", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({ logs: ["one", "two", "three"] });
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("loggy"))).json.data.id;
    await a.idle();
    const r = await a.call("GET", `/api/v1/tenants/${id}/logs?lines=2`);
    expect(r.headers.get("content-type")).toContain("text/plain");
    expect(r.text).toBe("two\nthree\n");
    expect((await a.call("GET", `/api/v1/tenants/${id}/logs?lines=abc`)).status).toBe(400);
    expect((await a.call("GET", `/api/v1/tenants/${id}/logs?lines=0`)).status).toBe(400);
  });
});
