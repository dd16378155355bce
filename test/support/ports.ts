// A TCP port free on loopback right now: for the processes a test starts (its resolver, for one), so that nothing
// a previous test left behind on a default port answers in their place.
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
