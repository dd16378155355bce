// The dashboard's pure pieces: SSE parsing, .env parsing, the stepper's reading of events, DNS records and
// their verification in words, the request bodies of network rules and services.
import { describe, expect, test } from "bun:test";
import { SseParser } from "../../web/src/stream.ts";
import { formatEnv, parseEnv } from "../../web/src/env-file.ts";
import { progressOf, stageOrder, type PipelineEvent } from "../../web/src/components/stepper.tsx";
import { checksOf, checkWords, recordsOf } from "../../web/src/pages/tenant/domains.tsx";
import { ruleBody } from "../../web/src/pages/tenant/network.tsx";
import { serviceBody } from "../../web/src/pages/tenant/services.tsx";
import { ApiError } from "../../web/src/api.ts";

describe("SseParser", () => {
  test("messages split across chunks, ids, events, comments, CRLF, multi-line data", () => {
    const p = new SseParser();
    expect(p.push("retry: 5000\n\n: heartbeat\n\nid: 7\nda")).toEqual([]);
    expect(p.push('ta: {"a":1}\n\nevent: log\r\ndata: one\r\ndata: two\r')).toEqual([
      { id: "7", event: "message", data: '{"a":1}' },
    ]);
    expect(p.lastId).toBe("7");
    expect(p.push("\n\r\n")).toEqual([{ id: "7", event: "log", data: "one\ntwo" }]);
  });
});

describe("parseEnv / formatEnv", () => {
  test("quotes, export, comments, duplicates (last wins), bad lines reported", () => {
    const r = parseEnv("export A=1\n# c\nB=\"x y\\n\"\nC='z' \nD=v # note\nA=2\nnot a line\n1BAD=3\n");
    expect(r.vars).toEqual([
      ["B", "x y\n"],
      ["C", "z"],
      ["D", "v"],
      ["A", "2"],
    ]);
    expect(r.problems).toEqual(["line 7: expected KEY=VALUE", 'line 8: "1BAD" is not a valid variable name']);
  });
  test("round trip", () => {
    const vars: [string, string][] = [
      ["A", "plain"],
      ["B", 'has "quotes" and #'],
      ["C", "multi\nline"],
      ["D", ""],
    ];
    expect(parseEnv(formatEnv(vars)).vars).toEqual(vars);
  });
});

const ev = (
  id: number,
  stage: string,
  status: string,
  dep = "dep_1",
  data: Record<string, unknown> | null = null,
): PipelineEvent => ({
  id,
  deployment_id: dep,
  service: "web",
  stage,
  status,
  message: `${stage} ${status}`,
  data,
  timestamp: "2026-01-01T00:00:00Z",
});

describe("progressOf", () => {
  test("follows the latest deployment; skipped build on a rollback; ready", () => {
    const p = progressOf([
      ev(1, "build", "done", "dep_0"),
      ev(2, "provision", "done"),
      ev(3, "deploy", "done"),
      ev(4, "health", "done"),
      ev(5, "route", "done"),
      ev(6, "ready", "done"),
    ]);
    expect(p.deploymentId).toBe("dep_1");
    expect(p.finished).toBe("ready");
    expect(p.steps.build.state).toBe("skipped");
    expect(p.steps.ready.state).toBe("done");
  });
  test("the stages in the order the pipeline sends them: health before route, route waiting (not skipped) while health runs", () => {
    const p = progressOf([
      ev(1, "provision", "done"),
      ev(2, "build", "done"),
      ev(3, "deploy", "done"),
      ev(4, "health", "running"),
    ]);
    expect(p.order).toEqual(["provision", "build", "deploy", "health", "route", "ready"]);
    expect(p.steps.health.state).toBe("running");
    expect(p.steps.route.state).toBe("pending");
    expect(p.steps.ready.state).toBe("pending");
  });
  test("the order follows the events; a stage not sent sits at its usual place", () => {
    expect(stageOrder(["provision", "build", "deploy", "route", "health", "ready"])).toEqual([
      "provision",
      "build",
      "deploy",
      "route",
      "health",
      "ready",
    ]);
    expect(stageOrder(["provision", "deploy"])).toEqual(["provision", "build", "deploy", "health", "route", "ready"]);
    expect(stageOrder([])).toEqual(["provision", "build", "deploy", "health", "route", "ready"]);
    // A rollback reuses the image: build is skipped, and only once a later stage ran.
    const p = progressOf([ev(1, "provision", "done"), ev(2, "deploy", "running")]);
    expect(p.steps.build.state).toBe("skipped");
    expect(p.steps.health.state).toBe("pending");
  });
  test("an error marks the failed stage", () => {
    const p = progressOf([
      ev(1, "provision", "done"),
      ev(2, "build", "running"),
      ev(3, "error", "failed", "dep_1", { failed_stage: "build" }),
    ]);
    expect(p.finished).toBe("error");
    expect(p.steps.build.state).toBe("failed");
    expect(p.steps.deploy.state).toBe("pending");
  });
});

describe("domain records", () => {
  const verification = {
    type: "TXT",
    name: "_staxa-challenge.app.example.com",
    value: "staxa-verify-abc",
    token: "staxa-verify-abc",
    pointing: [
      { type: "A", name: "app.example.com", value: "203.0.113.5" },
      { type: "CNAME", name: "app.example.com", value: "web.apps.test" },
    ],
  };
  test("exactly the API's verification records: TXT ownership, then the pointing choices", () => {
    expect(recordsOf({ id: "dom_1", domain: "app.example.com", verification })).toEqual({
      ownership: { type: "TXT", name: "_staxa-challenge.app.example.com", value: "staxa-verify-abc" },
      pointing: verification.pointing,
    });
    // without a verification object, dns_records are split the same way
    const own = [
      { type: "A", name: "x.example.com", value: "1.2.3.4" },
      { type: "TXT", name: "_staxa-challenge.x.example.com", value: "t" },
    ];
    expect(recordsOf({ id: "dom_2", domain: "x.example.com", dns_records: own })).toEqual({
      ownership: own[1],
      pointing: [own[0]],
    });
    expect(recordsOf({ id: "dom_3", domain: "y.example.com" })).toEqual({ ownership: null, pointing: [] });
  });
  test("a 422's records in words: expected vs found, a failed lookup, a match", () => {
    const records = [
      {
        type: "TXT",
        name: "_staxa-challenge.app.example.com",
        expected: "staxa-verify-abc",
        found: [],
        ok: false,
        error: "queryTxt ENOTFOUND",
      },
      { type: "A", name: "app.example.com", expected: "203.0.113.5", found: ["198.51.100.2"], ok: false },
      { type: "CNAME", name: "www.example.com", expected: "web.apps.test", found: ["web.apps.test"], ok: true },
      { nonsense: true },
    ];
    const checks = checksOf(new ApiError(422, "dns_verification_failed", "DNS verification failed", undefined, { records }));
    expect(checks.map(checkWords)).toEqual([
      "TXT _staxa-challenge.app.example.com: expected staxa-verify-abc, found nothing (the lookup failed: queryTxt ENOTFOUND).",
      "A app.example.com: expected 203.0.113.5, found 198.51.100.2.",
      "CNAME www.example.com: found web.apps.test as expected.",
    ]);
    expect(checkWords({ type: "A", name: "a.example.com", expected: "1.2.3.4", found: [], ok: false })).toBe(
      "A a.example.com: expected 1.2.3.4, found no such record.",
    );
    expect(checksOf(new ApiError(400, "validation_error", "bad", "domain"))).toEqual([]);
  });
});

describe("request bodies", () => {
  const rule = {
    direction: "inbound",
    protocol: "tcp",
    target_service: "db",
    target_port: "5432",
    source_cidrs: "10.0.0.0/8, 192.168.1.0/24  203.0.113.7",
    destination_cidrs: "1.1.1.1/32",
    destination_port: "53",
    ttl_hours: "",
    description: " office ",
  };
  test("an inbound rule sends only inbound fields; outbound only outbound ones", () => {
    expect(ruleBody(rule)).toEqual({
      direction: "inbound",
      protocol: "tcp",
      target_service: "db",
      target_port: 5432,
      source_cidrs: ["10.0.0.0/8", "192.168.1.0/24", "203.0.113.7"],
      description: "office",
    });
    expect(ruleBody({ ...rule, direction: "outbound", ttl_hours: "24", description: "" })).toEqual({
      direction: "outbound",
      protocol: "tcp",
      destination_cidrs: ["1.1.1.1/32"],
      destination_port: 53,
      ttl_hours: 24,
    });
  });
  test("a service: its source's fields, port as a number, blank volume rows dropped", () => {
    const f = {
      name: " cache ",
      source_type: "image",
      repo_url: "x",
      branch: "main",
      image_url: "redis:7",
      port: "6379",
      is_routable: false,
      resource_size: "small",
    };
    expect(
      serviceBody(f, [
        { name: "data", mount_path: "/data" },
        { name: " ", mount_path: "" },
      ]),
    ).toEqual({
      name: "cache",
      source_type: "image",
      is_routable: false,
      resource_size: "small",
      image_url: "redis:7",
      port: 6379,
      volumes: [{ name: "data", mount_path: "/data" }],
    });
    expect(serviceBody({ ...f, source_type: "github", repo_url: "https://github.com/a/b", branch: "", port: "" }, [])).toEqual({
      name: "cache",
      source_type: "github",
      is_routable: false,
      resource_size: "small",
      repo_url: "https://github.com/a/b",
      branch: "main",
    });
  });
});
