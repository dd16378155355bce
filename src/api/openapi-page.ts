// The /api/v1/docs page: one self-contained HTML file (no CDN, no network) rendering openapi.json.
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Staxa API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}
header{background:#111827;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
input{width:100%;padding:8px;font-size:15px;border:1px solid #d0d7de;border-radius:6px;margin:8px 0 16px}
h2{margin:24px 0 8px;font-size:18px;border-bottom:1px solid #d0d7de}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;width:64px;font-weight:700}.GET{color:#0969da}.POST{color:#1a7f37}.PUT,.PATCH{color:#9a6700}.DELETE{color:#cf222e}
.body{padding:0 12px 12px}pre{background:#f6f8fa;padding:8px;overflow:auto;border-radius:6px;font-size:13px}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;font-size:13px}
.lock{color:#57606a;font-size:12px;margin-left:8px}
</style></head>
<body><header><h1>Staxa API</h1><div id="ver"></div></header>
<main><p>Machine-readable document: <a href="openapi.json">openapi.json</a>. Authenticate with <code>Authorization: Bearer sk_live_…</code>.</p>
<input id="q" placeholder="Filter operations (path, method, summary)…" autofocus>
<div id="ops">Loading…</div></main>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
function render(doc, filter) {
  const groups = {};
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const text = (method + " " + path + " " + (op.summary || "")).toLowerCase();
    if (filter && !text.includes(filter.toLowerCase())) continue;
    const tag = (op.tags && op.tags[0]) || "Other";
    (groups[tag] = groups[tag] || []).push({ path, method: method.toUpperCase(), op });
  }
  let html = "";
  for (const tag of Object.keys(groups).sort()) {
    html += "<h2>" + esc(tag) + "</h2>";
    for (const { path, method, op } of groups[tag]) {
      const open = op.security && op.security.length === 0 ? '<span class="lock">no auth</span>' : "";
      let body = "";
      if (op.description) body += "<p>" + esc(op.description) + "</p>";
      if (op.parameters && op.parameters.length) {
        body += "<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>";
        for (const p of op.parameters) body += "<tr><td>" + esc(p.name) + "</td><td>" + esc(p.in) + "</td><td>" + (p.required ? "yes" : "no") + "</td><td><code>" + esc(JSON.stringify(p.schema)) + "</code></td></tr>";
        body += "</table>";
      }
      if (op.requestBody) body += "<p>Request body (application/json):</p><pre>" + esc(JSON.stringify(op.requestBody.content["application/json"].schema, null, 2)) + "</pre>";
      // each code with what it carries: the data model's name (a link-free reference) or the error response's
      const what = (r) => { const text = r.$ref || JSON.stringify(((r.content || {})["application/json"] || {}).schema || ""); const i = text.indexOf("schemas/"); const name = r.$ref ? text.split("/").pop() : i < 0 ? "" : text.slice(i + 8).split('"')[0]; return name ? " (" + name + ")" : ""; };
      body += "<p>Responses: " + Object.entries(op.responses).map(([c, r]) => esc(c + what(r))).join(", ") + "</p>";
      html += '<details><summary><span class="m ' + method + '">' + method + "</span>" + esc(path) + " — " + esc(op.summary || "") + open + '</summary><div class="body">' + body + "</div></details>";
    }
  }
  document.getElementById("ops").innerHTML = html || "<p>No operation matches.</p>";
}
fetch("openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("ver").textContent = doc.info.title + " " + doc.info.version + " · OpenAPI " + doc.openapi;
  render(doc, "");
  document.getElementById("q").addEventListener("input", (e) => render(doc, e.target.value));
}).catch((e) => { document.getElementById("ops").textContent = "Could not load openapi.json: " + e; });
</script></body></html>
`;
