// Both container-log endpoints go through one helper: the reference's defaults (200 for a tenant, 100 for a
// service), the same follow parameter, and each endpoint's follow framing (chunked text for a tenant, SSE for a service).
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";

const body = (name: string) => ({ name, source_type: "github", repo_url: "https://example.com/acme/app.git", app_port: 3000 });
const numbered = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`);

async function loggingTenant(name: string) {
  const a = await fakeApp();
  a.runtime.behaviour = () => ({ logs: numbered });
  const id = (await a.call("POST", "/api/v1/tenants", body(name))).json.data.id as string;
  await a.idle();
  return { a, id };
}

describe("log endpoints", () => {
  test("without lines, a tenant's logs answer the last 200 lines and a service's the last 100, as the reference says", async () => {
    const { a, id } = await loggingTenant("logs-defaults");
    const tenant = (await a.call("GET", `/api/v1/tenants/${id}/logs`)).text.trimEnd().split("\n");
    const service = (await a.call("GET", `/api/v1/tenants/${id}/services/web/logs`)).text.trimEnd().split("\n");
    expect([tenant.length, tenant[0], tenant.at(-1)]).toEqual([200, "line 101", "line 300"]);
    expect([service.length, service[0], service.at(-1)]).toEqual([100, "line 201", "line 300"]);
  });

  test("one follow parameter: a value that is not a boolean is a 400 naming follow on both endpoints", async () => {
    const { a, id } = await loggingTenant("logs-follow-bad");
    for (const path of [`/api/v1/tenants/${id}/logs?follow=yes`, `/api/v1/tenants/${id}/services/web/logs?follow=yes`]) {
      const r = await a.call("GET", path);
      expect([r.status, r.json.error.details.field]).toEqual([400, "follow"]);
    }
  });

  test("following: a service's log as SSE frames, a tenant's as chunked text; each holds a log slot", async () => {
    const { a, id } = await loggingTenant("logs-follow");
    const open = async (path: string) => {
      const ac = new AbortController();
      const res = await a.app.handle(
        new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${a.key}` }, signal: ac.signal }),
      );
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("line 300")) text += new TextDecoder().decode((await reader.read()).value);
      return { res, text, close: () => ac.abort() };
    };
    const svc = await open(`/api/v1/tenants/${id}/services/web/logs?follow=true&lines=2`);
    expect(svc.res.headers.get("content-type")).toBe("text/event-stream");
    expect(svc.text).toBe("retry: 5000\n\ndata: line 299\n\ndata: line 300\n\n");
    const ten = await open(`/api/v1/tenants/${id}/logs?follow=1&lines=2`);
    expect(ten.res.headers.get("content-type")).toContain("text/plain");
    expect(ten.text).toBe("line 299\nline 300\n");
    expect(a.deps.streams.count(a.provider.id, "logs")).toBe(2);
    svc.close();
    ten.close();
    await Bun.sleep(20);
    expect(a.deps.streams.count(a.provider.id, "logs")).toBe(0);
  });
});
