// The dashboard's pure pieces: SSE parsing, .env parsing, the stepper's reading of events, DNS records.
import { describe, expect, test } from "bun:test";
import { SseParser } from "../../web/src/stream.ts";
import { formatEnv, parseEnv } from "../../web/src/env-file.ts";
import { progressOf, type PipelineEvent } from "../../web/src/components/stepper.tsx";
import { dnsRecords } from "../../web/src/pages/tenant/domains.tsx";

describe("SseParser", () => {
  test("messages split across chunks, ids, events, comments, CRLF, multi-line data", () => {
    const p = new SseParser();
    expect(p.push("retry: 5000\n\n: heartbeat\n\nid: 7\nda")).toEqual([]);
    expect(p.push('ta: {"a":1}\n\nevent: log\r\ndata: one\r\ndata: two\r')).toEqual([{ id: "7", event: "message", data: '{"a":1}' }]);
    expect(p.lastId).toBe("7");
    expect(p.push("\n\r\n")).toEqual([{ id: "7", event: "log", data: "one\ntwo" }]);
  });
});

describe("parseEnv / formatEnv", () => {
  test("quotes, export, comments, duplicates (last wins), bad lines reported", () => {
    const r = parseEnv('export A=1\n# c\nB="x y\\n"\nC=\'z\' \nD=v # note\nA=2\nnot a line\n1BAD=3\n');
    expect(r.vars).toEqual([["B", "x y\n"], ["C", "z"], ["D", "v"], ["A", "2"]]);
    expect(r.problems).toEqual(["line 7: expected KEY=VALUE", 'line 8: "1BAD" is not a valid variable name']);
  });
  test("round trip", () => {
    const vars: [string, string][] = [["A", "plain"], ["B", 'has "quotes" and #'], ["C", "multi\nline"], ["D", ""]];
    expect(parseEnv(formatEnv(vars)).vars).toEqual(vars);
  });
});

const ev = (id: number, stage: string, status: string, dep = "dep_1", data: Record<string, unknown> | null = null): PipelineEvent =>
  ({ id, deployment_id: dep, service: "web", stage, status, message: `${stage} ${status}`, data, timestamp: "2026-01-01T00:00:00Z" });

describe("progressOf", () => {
  test("follows the latest deployment; skipped build on a rollback; ready", () => {
    const p = progressOf([ev(1, "build", "done", "dep_0"), ev(2, "provision", "done"), ev(3, "deploy", "done"), ev(4, "health", "done"), ev(5, "route", "done"), ev(6, "ready", "done")]);
    expect(p.deploymentId).toBe("dep_1");
    expect(p.finished).toBe("ready");
    expect(p.steps.build.state).toBe("skipped");
    expect(p.steps.ready.state).toBe("done");
  });
  test("an error marks the failed stage", () => {
    const p = progressOf([ev(1, "provision", "done"), ev(2, "build", "running"), ev(3, "error", "failed", "dep_1", { failed_stage: "build" })]);
    expect(p.finished).toBe("error");
    expect(p.steps.build.state).toBe("failed");
    expect(p.steps.deploy.state).toBe("pending");
  });
});

describe("dnsRecords", () => {
  test("A to server_ip and the TXT token, or the API's own records", () => {
    expect(dnsRecords({ id: "dom_1", domain: "app.example.com", verification_token: "tok" }, "203.0.113.5")).toEqual([
      { type: "A", name: "app.example.com", value: "203.0.113.5" },
      { type: "TXT", name: "_staxa-verify.app.example.com", value: "tok" },
    ]);
    const own = [{ type: "CNAME", name: "www.example.com", value: "x" }];
    expect(dnsRecords({ id: "dom_2", domain: "www.example.com", dns_records: own }, "203.0.113.5")).toEqual(own);
  });
});
