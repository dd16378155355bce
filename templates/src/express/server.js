// A plain Express server on $PORT (Staxa sets it).
const express = require("express");

const app = express();
app.get("/", (_req, res) => res.type("text/plain").send("Hello from the Staxa Node.js (Express) template\n"));
app.get("/healthz", (_req, res) => res.json({ ok: true }));

const port = Number(process.env.PORT || 3000);
app.listen(port, "0.0.0.0", () => console.log(`listening on :${port}`));
