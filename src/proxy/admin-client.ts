// A thin client of Caddy's admin API: JSON in and out, a short timeout, every failure an Upstream("caddy").
import { Upstream } from "../lib/errors.ts";

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** One admin request; statuses outside `ok` become Upstream errors carrying Caddy's message. */
  async call(method: string, path: string, body?: unknown, ok: number[] = [200]): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        // No pooled connections: Caddy restarts its admin listener on config loads and a reused socket dies mid-call.
        headers: { connection: "close", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        keepalive: false,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new Upstream("caddy", `admin API unreachable (${method} ${path}): ${(err as Error).message}`);
    }
    if (!ok.includes(res.status)) {
      const text = (await res.text()).slice(0, 500);
      let msg = text;
      try {
        msg = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {}
      throw new Upstream("caddy", `${method} ${path} answered ${res.status}: ${msg}`);
    }
    return res;
  }

  /** True when the admin API answers at all. */
  async alive(): Promise<boolean> {
    try {
      await fetch(this.baseUrl + "/config/", { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      return false;
    }
  }
}
