// The agent's iptables executor over a recording runner: groups a restarted agent finds in its chains are read back
// (and removed when no longer desired), new groups go in, a group that fails half-way is taken out whole and retried.
import { describe, expect, test } from "bun:test";
import { nodeFirewall } from "../../../src/agent/iptables.ts";
import type { Step } from "../../../src/runtime/firewall-rules.ts";

function runner(listing: Record<string, string>, failOn?: (argv: string[]) => boolean) {
  const ran: string[] = [];
  const run = async (argv: string[]) => {
    if (argv[0] === "-S") return { code: 0, out: listing[argv[1]!] ?? "", err: "" };
    if (argv[0] === "-C") return { code: 0, out: "", err: "" }; // every set-up hook already there
    ran.push(argv.join(" "));
    if (failOn?.(argv)) return { code: 1, out: "", err: "iptables: boom" };
    return { code: 0, out: "", err: "" };
  };
  return { run, ran };
}
const group = (id: string, ...rules: string[]): Step[] =>
  rules.map((r) => ({ argv: ["-A", "STAXA-NODE-ISO", "-d", r, "-m", "comment", "--comment", `staxa:${id}`, "-j", "DROP"] }));

describe("nodeFirewall", () => {
  test("a restarted agent reads its groups back: a kept one is left alone, a gone one deleted, a new one added", async () => {
    const listing = {
      "STAXA-NODE-ISO": [
        "-N STAXA-NODE-ISO",
        "-A STAXA-NODE-ISO -d 10.0.0.1/32 -m comment --comment staxa:node-iso:old -j DROP",
        "-A STAXA-NODE-ISO -d 10.0.0.2/32 -m comment --comment staxa:node-iso:keep -j DROP",
      ].join("\n"),
      "STAXA-NODE-EGRESS": "-A STAXA-NODE-EGRESS -m conntrack --ctstate NEW -m comment --comment staxa:node-unknown -j DROP",
    };
    const r = runner(listing);
    const fw = nodeFirewall(r.run);
    await fw.setup();
    r.ran.length = 0;
    const desired = new Map([
      ["node-iso:keep", group("node-iso:keep", "10.0.0.2/32")],
      ["node-iso:new", group("node-iso:new", "10.0.0.3/32")],
    ]);
    expect(await fw.apply(desired)).toBe(2);
    expect(r.ran).toEqual([
      "-A STAXA-NODE-ISO -d 10.0.0.3/32 -m comment --comment staxa:node-iso:new -j DROP",
      "-D STAXA-NODE-ISO -d 10.0.0.1/32 -m comment --comment staxa:node-iso:old -j DROP",
    ]);
    // the set-up's own rule (node-unknown) is never planned away; a second pass has nothing to do
    r.ran.length = 0;
    expect(await fw.apply(desired)).toBe(0);
    expect(r.ran).toEqual([]);
  });

  test("a group failing half-way is taken out whole, and added whole on the next pass", async () => {
    let fail = true;
    const r = runner({}, (argv) => fail && argv[0] === "-A" && argv.includes("10.0.0.6/32"));
    const fw = nodeFirewall(r.run);
    await fw.setup();
    r.ran.length = 0;
    const desired = new Map([["node-iso:x", group("node-iso:x", "10.0.0.5/32", "10.0.0.6/32")]]);
    await expect(fw.apply(desired)).rejects.toThrow("boom");
    expect(r.ran).toEqual([
      "-A STAXA-NODE-ISO -d 10.0.0.5/32 -m comment --comment staxa:node-iso:x -j DROP",
      "-A STAXA-NODE-ISO -d 10.0.0.6/32 -m comment --comment staxa:node-iso:x -j DROP",
      "-D STAXA-NODE-ISO -d 10.0.0.5/32 -m comment --comment staxa:node-iso:x -j DROP",
      "-D STAXA-NODE-ISO -d 10.0.0.6/32 -m comment --comment staxa:node-iso:x -j DROP",
    ]);
    fail = false;
    r.ran.length = 0;
    expect(await fw.apply(desired)).toBe(2);
    expect(r.ran.filter((l) => l.startsWith("-A"))).toHaveLength(2);
  });
});
