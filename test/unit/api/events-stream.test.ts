// The events stream a client opens from a 202's events_url (issue 19 point 8): it stays open while the
// deployment is silent for longer than the server's idle timeout (Elysia's default is 30 s; a build queued
// behind others under load is silent longer), and a multi-service tenant's replay without
// `follow` ends at the last service's final event.
import { afterAll, describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { createApp } from "../../../src/app.ts";

const img = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "image",
  image_url: `example/${name}:1`,
  port: 8080,
  ...extra,
});
const dataEvents = (text: string) =>
  [...text.matchAll(/^data: (.*)$/gm)].map(
    (m) => JSON.parse(m[1]) as { stage: string; service: string | null; deployment_id: string | null },
  );

async function readAll(res: Response, ms: number): Promise<{ text: string; ended: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => ({ timeout: true }) as const)]);
    if ("timeout" in r) break;
    if (r.done) return { text, ended: true };
    text += dec.decode(r.value);
  }
  await reader.cancel();
  return { text, ended: false };
}

describe("events stream", () => {
  test("a multi-service tenant's replay without follow ends at the last service's final event, not the first's", async () => {
    const a = await fakeApp();
    const body = {
      name: "group",
      services: [
        img("web", { is_routable: true, depends_on: ["api"] }),
        img("api", { is_routable: true }),
        img("worker", { priority: 5 }),
      ],
    };
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    const res = await a.app.handle(
      new Request(`http://localhost/api/v1/tenants/${id}/events`, { headers: { authorization: `Bearer ${a.key}` } }),
    );
    const { text, ended } = await readAll(res, 3000);
    expect(ended).toBe(true);
    const evs = dataEvents(text);
    const finals = evs.filter((e) => e.stage === "ready").map((e) => e.service);
    expect(finals).toEqual(["api", "web", "worker"]); // the deploy order
    expect(evs.at(-1)).toMatchObject({ stage: "ready", service: "worker" });
  });

  describe("over a socket whose idle timeout is shorter than the deployment's silence", () => {
    const a = fakeApp();
    const server = a.then((x) => createApp(x.deps).listen({ port: 0, hostname: "127.0.0.1", idleTimeout: 1 }));
    afterAll(async () => (await server).stop(true));

    test("subscribing to events_url right after the 202 sees every stage to ready, not just `retry:`", async () => {
      const app = await a;
      const base = `http://127.0.0.1:${(await server).server!.port}`;
      const auth = { authorization: `Bearer ${app.key}` };
      // Silent for 5.5 s. Bun's idle timer ignores what the server writes (heartbeats included) and fires on a
      // ~4 s sweep: with a 1 s idle timeout the stream was cut at ~4 s, after `retry:` and the early events.
      app.runtime.buildDelayMs = 5500;
      const created = await fetch(`${base}/api/v1/tenants`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "slow", source_type: "github", repo_url: "https://example.com/acme/app.git" }),
      });
      expect(created.status).toBe(202);
      const { data } = (await created.json()) as { data: { id: string; events_url?: string } };
      const url = data.events_url ?? `/api/v1/tenants/${data.id}/events`;
      const res = await fetch(url.startsWith("http") ? url : base + url, { headers: auth });
      const { text, ended } = await readAll(res, 15_000);
      expect(text.startsWith("retry: 5000\n\n")).toBe(true);
      expect(ended).toBe(true);
      const stages = dataEvents(text).map((e) => e.stage);
      expect(stages).toContain("build");
      expect(stages.at(-1)).toBe("ready");
      await app.idle();
    }, 30_000);

    test("a service's log follow stays open through a quiet spell longer than the idle timeout", async () => {
      const app = await a;
      const base = `http://127.0.0.1:${(await server).server!.port}`;
      const auth = { authorization: `Bearer ${app.key}` };
      app.runtime.buildDelayMs = 0;
      const created = await fetch(`${base}/api/v1/tenants`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "quiet", services: [img("web", { is_routable: true })] }),
      });
      expect(created.status).toBe(202);
      await app.idle();
      const id = ((await created.json()) as { data: { id: string } }).data.id;
      const ac = new AbortController();
      const res = await fetch(`${base}/api/v1/tenants/${id}/services/web/logs?follow=true`, { headers: auth, signal: ac.signal });
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("data: listening");
      // Nothing more is logged: a cut stream would end (or fail) within ~4 s; an open one is still waiting at 5.5 s.
      const next = await Promise.race([
        reader.read().then(
          () => "ended",
          () => "failed",
        ),
        Bun.sleep(5500).then(() => "open"),
      ]);
      expect(next).toBe("open");
      ac.abort();
    }, 30_000);
  });
});
