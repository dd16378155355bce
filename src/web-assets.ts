// The dashboard, bundled into the binary. Until the real dashboard lands, a placeholder page.
const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Staxa</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body><main><h1>Staxa</h1><p>The appliance is running. The API is at <code>/api/v1</code>.</p></main></body></html>`;

/** Serves `/` and `/assets/*` of the dashboard. */
export function dashboardResponse(path: string, _request: Request): Response {
  if (path === "/") return new Response(PLACEHOLDER, { headers: { "content-type": "text/html; charset=utf-8" } });
  return new Response("Not found", { status: 404 });
}
