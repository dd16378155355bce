// The on-demand TLS ask endpoint: loopback only, answers from the proxy's memory.
import { describe, expect, test } from "bun:test";
import { isLoopback } from "../../../src/api/tls-ask.ts";
import { createMemoryProxy } from "../../../src/proxy/memory.ts";
import { testApp } from "../../support/ctx.ts";

describe("isLoopback", () => {
  const cases: Array<[string | undefined, boolean]> = [
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.1", false],
    ["172.17.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["0.0.0.0", false],
    ["::", false],
    ["fe80::1", false],
    ["1127.0.0.1", false],
    ["127.0.0.1.evil", false],
    ["", false],
    [undefined, false],
  ];
  test.each(cases)("%p -> %p", (addr, want) => expect(isLoopback(addr)).toBe(want));
});

describe("GET /internal/tls/ask", () => {
  test("answers 200 for a routed host and 404 otherwise when called over loopback", async () => {
    const proxy = createMemoryProxy();
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: "127.0.0.1:3000", tls: true });
    const { app } = testApp({ proxy });
    app.listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${app.server!.port}/internal/tls/ask`;
      const status = async (q: string) => (await fetch(`${base}${q}`)).status;
      expect([
        await status("?domain=a.staxa.test"),
        await status("?domain=A.STAXA.TEST"),
        await status("?domain=b.staxa.test"),
        await status(""),
      ]).toEqual([200, 200, 404, 404]);
      const t = performance.now();
      for (let i = 0; i < 200; i++) await status("?domain=a.staxa.test");
      expect((performance.now() - t) / 200).toBeLessThan(5);
    } finally {
      await app.stop();
    }
  });

  test("fails closed without a socket address (in-process requests are not loopback)", async () => {
    const proxy = createMemoryProxy();
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: "127.0.0.1:3000", tls: true });
    const { app } = testApp({ proxy });
    const res = await app.handle(new Request("http://localhost/internal/tls/ask?domain=a.staxa.test"));
    expect(res.status).toBe(403);
  });
});

describe("memory proxy", () => {
  test("mirrors the Caddy table rules", async () => {
    const p = createMemoryProxy();
    await p.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: "127.0.0.1:3000", tls: true });
    await p.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: "127.0.0.1:3001", tls: true });
    expect(await p.listRoutes()).toEqual([{ id: "a.web", hosts: ["a.staxa.test"], upstream: "127.0.0.1:3001", tls: true }]);
    await p.removeRoute("a.web");
    expect(p.hasHost("a.staxa.test")).toBe(false);
    await expect(p.setRoute({ id: "{x}", hosts: ["a.test"], upstream: "1.2.3.4:80", tls: false })).rejects.toThrow();
  });
});
