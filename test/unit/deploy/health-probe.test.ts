// httpProbe: an HTTP answer gives its status; a TCP service that answers in its own protocol (or hangs up) is serving.
import { afterAll, describe, expect, test } from "bun:test";
import { httpProbe, NOT_HTTP } from "../../../src/core/deploy/health.ts";

const http = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok", { status: 204 }) });
// Redis answers an HTTP request line with an error in its own protocol.
const redisLike = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { data: (s) => void s.write("-ERR wrong number of arguments for 'get' command\r\n") },
});
// PostgreSQL reads "GET " as an impossible startup packet length and closes without a word.
const hangsUp = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => void s.end() } });
// An HTTP server answering 503, too slowly for fetch the first time, at once the second: still unhealthy, never "not HTTP".
let slowCalls = 0;
const slow503 = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { data: (s) => void setTimeout(() => s.end("HTTP/1.0 503 Service Unavailable\r\n\r\n"), slowCalls++ === 0 ? 300 : 0) },
});
// Accepts and never answers: not proven to serve.
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
afterAll(() => {
  http.stop(true);
  for (const l of [redisLike, hangsUp, slow503, silent]) l.stop(true);
});

describe("httpProbe", () => {
  test("an HTTP server: its status", async () => {
    expect(await httpProbe(`http://127.0.0.1:${http.port}/`, 2000)).toBe(204);
  });
  test("a TCP service answering in its own protocol is serving", async () => {
    expect(await httpProbe(`http://127.0.0.1:${redisLike.port}/`, 2000)).toBe(NOT_HTTP);
  });
  test("a TCP service hanging up on the HTTP request is serving", async () => {
    expect(await httpProbe(`http://127.0.0.1:${hangsUp.port}/`, 2000)).toBe(NOT_HTTP);
  });
  test("a refused connection still fails", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    const free = closed.port;
    closed.stop(true);
    await expect(httpProbe(`http://127.0.0.1:${free}/`, 2000)).rejects.toThrow();
  });
  test("a slow HTTP answer is judged as HTTP: a late 503 fails", async () => {
    await expect(httpProbe(`http://127.0.0.1:${slow503.port}/`, 100)).rejects.toThrow();
  });
  test("a port that accepts and stays silent still fails", async () => {
    await expect(httpProbe(`http://127.0.0.1:${silent.port}/`, 300)).rejects.toThrow();
  });
});
