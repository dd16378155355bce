// An Elysia API on Bun, listening on $PORT (Staxa sets it).
import { Elysia } from "elysia";

const app = new Elysia()
  .get("/", () => "Hello from the Staxa Bun + Elysia template\n")
  .get("/healthz", () => ({ ok: true }))
  .listen({ port: Number(process.env.PORT ?? 3000), hostname: "0.0.0.0" });

console.log(`listening on :${app.server?.port}`);
