// The baseline: a bare Elysia hello-world on the same Bun, for bench/api/run.ts.
import { Elysia } from "elysia";

const port = Number(process.argv[2] ?? 3999);
new Elysia().get("/", () => "hello").listen({ port, hostname: "127.0.0.1" });
