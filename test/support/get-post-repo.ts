// A fixture repo whose app answers GET / and POST / (reading the body): a small node server with keep-alive, able to
// take dozens of concurrent clients on a busy 2-core machine (busybox httpd forks per connection and falls behind).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "./e2e-app.ts";

const SERVER = `
const http = require("node:http");
const body = process.env.BODY;
http.createServer((req, res) => {
  let n = 0;
  req.on("data", (c) => (n += c.length));
  req.on("end", () => res.end(req.method === "POST" ? "posted " + body + " " + n + "\\n" : body + "\\n"));
}).listen(3000);
`;

/** GET / answers `${body}\n`; POST / reads the request body and answers `posted ${body} <bytes read>\n`. */
export async function getPostRepo(body: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-repo-"));
  writeFileSync(join(dir, "server.js"), SERVER);
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "server.js");
  await commitBody(dir, body);
  return dir;
}

/** Commits a new version of a getPostRepo app that answers with `body`. */
export async function commitBody(dir: string, body: string): Promise<void> {
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM staxa-test/node:20\nCOPY server.js /app/server.js\nENV BODY=${JSON.stringify(body)}\nCMD ["node", "/app/server.js"]\n`,
  );
  await git(dir, "add", "Dockerfile");
  await git(dir, "commit", "-q", "-m", body);
}
