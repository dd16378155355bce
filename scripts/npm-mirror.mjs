// A stand-in npm registry for the e2e tier, plain Node (it runs on the host and in the staxa-test/node image):
//   node npm-mirror.mjs record <dir> <port> [upstream]  proxies to the real registry (setup time only) and keeps
//                                                       every answer in <dir>, one file per request path
//   node npm-mirror.mjs serve <dir> <port>               answers from <dir> only: a request it never recorded is a 404,
//                                                       listed at GET /-/staxa/misses so a test can show nothing was missed
// npm, pnpm, yarn and corepack all fetch by path (/<name>, /@scope%2fname, /<name>/-/<file>.tgz), so one file per path
// replays any of them against a registry URL of http://<this>:<port>/.
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [mode, dir, port, upstream = "https://registry.npmjs.org"] = process.argv.slice(2);
if (!["record", "serve"].includes(mode) || !dir || !port) {
  console.error("usage: npm-mirror.mjs record|serve <dir> <port> [upstream]");
  process.exit(2);
}
const files = join(dir, "files");
mkdirSync(files, { recursive: true });
const misses = new Set();

/** The file of one request path: decoded (clients differ in escaping "/" of scoped names), then made one flat name. */
function fileOf(url) {
  const path = decodeURIComponent(new URL(url, "http://mirror").pathname);
  return join(files, encodeURIComponent(path));
}

const typeOf = (url) => (url.split("?")[0].endsWith(".tgz") ? "application/octet-stream" : "application/json");

async function record(req) {
  const res = await fetch(upstream + req.url, { headers: { accept: req.headers.accept ?? "*/*" } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status === 200) {
    const file = fileOf(req.url);
    writeFileSync(`${file}.tmp${process.pid}`, body);
    renameSync(`${file}.tmp${process.pid}`, file);
  }
  return { status: res.status, body };
}

const server = createServer(async (req, res) => {
  try {
    if (req.url === "/-/staxa/misses") return res.end(JSON.stringify([...misses]));
    if (req.method !== "GET") return (res.statusCode = 405), res.end();
    const file = fileOf(req.url);
    if (existsSync(file)) {
      res.setHeader("content-type", typeOf(req.url));
      return res.end(readFileSync(file));
    }
    if (mode === "serve") {
      misses.add(req.url);
      console.error(`miss ${req.url}`);
      res.statusCode = 404;
      return res.end('{"error":"not in the mirror"}');
    }
    const { status, body } = await record(req);
    res.statusCode = status;
    res.setHeader("content-type", typeOf(req.url));
    res.end(body);
  } catch (e) {
    console.error(`error ${req.url}: ${e.message}`);
    res.statusCode = 502;
    res.end();
  }
});
server.listen(Number(port), mode === "record" ? "127.0.0.1" : "0.0.0.0", () => console.error(`npm-mirror ${mode} on ${port}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
