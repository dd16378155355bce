// Smart-HTTP git server for tests: Bun.serve spawning `git http-backend` (CGI) per request over bare repos
// under `root`, and refusing (401) any request whose credential `authorize` rejects.
export interface GitHttpServer {
  url: string;
  /** method, path and whether it was let in. */
  requests: Array<{ method: string; path: string; allowed: boolean }>;
  stop(): void;
}

/** The token of `Authorization: Basic base64(x-access-token:<token>)`, as GitHub expects it from git. */
export function basicToken(header: string | null): string | undefined {
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/.exec(header) : null;
  if (!m) return undefined;
  const [user, ...rest] = Buffer.from(m[1]!, "base64").toString().split(":");
  return user === "x-access-token" ? rest.join(":") : undefined;
}

export function startGitHttpServer(root: string, authorize: (token: string | undefined) => boolean): GitHttpServer {
  const requests: GitHttpServer["requests"] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const allowed = authorize(basicToken(req.headers.get("authorization")));
      requests.push({ method: req.method, path: url.pathname, allowed });
      if (!allowed)
        return new Response("Authentication required\n", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="GitHub"' },
        });
      const proc = Bun.spawn(["git", "http-backend"], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: "1",
          GATEWAY_INTERFACE: "CGI/1.1",
          REQUEST_METHOD: req.method,
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: req.headers.get("content-type") ?? "",
          REMOTE_USER: "x-access-token",
          REMOTE_ADDR: "127.0.0.1",
          GIT_PROTOCOL: req.headers.get("git-protocol") ?? "",
          HTTP_CONTENT_ENCODING: req.headers.get("content-encoding") ?? "",
        },
        stdin: req.body ? new Uint8Array(await req.arrayBuffer()) : "ignore",
        stdout: "pipe",
        stderr: "ignore",
      });
      const out = Buffer.from(await new Response(proc.stdout).arrayBuffer());
      await proc.exited;
      // CGI output: headers, a blank line, the body.
      let split = out.indexOf("\r\n\r\n");
      let sep = 4;
      if (split < 0) [split, sep] = [out.indexOf("\n\n"), 2];
      if (split < 0) return new Response("bad CGI output", { status: 502 });
      const headers = new Headers();
      let status = 200;
      for (const line of out.subarray(0, split).toString().split(/\r?\n/)) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
        else headers.append(k, v);
      }
      return new Response(out.subarray(split + sep), { status, headers });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}
