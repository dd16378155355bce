// The dashboard's env editor saves a patch: only changed keys, hidden (secret) values kept without being retyped.
import { describe, expect, test } from "bun:test";
import { envPatch } from "../../web/src/pages/tenant/env.tsx";

const loaded = [
  { key: "API_TOKEN", value: "****" },
  { key: "GREETING", value: "hello" },
  { key: "OLD", value: "x" },
];
const rowsOf = (...rows: Array<[string, string, boolean?]>) =>
  rows.map(([key, value, masked = false], uid) => ({ key, value, masked, uid }));
const unchanged = () => rowsOf(["API_TOKEN", "", true], ["GREETING", "hello"], ["OLD", "x"]);

describe("envPatch", () => {
  test("adding one variable sends only it: the hidden secret is neither retyped nor sent", () => {
    expect(envPatch(loaded, [...unchanged(), { key: "FEATURE", value: "on", masked: false, uid: 9 }])).toEqual({
      set: { FEATURE: "on" },
    });
  });

  test("edits, removals and a new secret value", () => {
    const rows = rowsOf(["API_TOKEN", "new-secret", true], ["GREETING", "hi"]);
    expect(envPatch(loaded, rows)).toEqual({ set: { API_TOKEN: "new-secret", GREETING: "hi" }, unset: ["OLD"] });
  });

  test("nothing changed: an empty patch", () => expect(envPatch(loaded, unchanged())).toEqual({}));

  test("a renamed hidden row has no value to carry: it must be typed (named by its row)", () => {
    expect(() => envPatch(loaded, rowsOf(["API_KEY", "", true], ["GREETING", "hello"]))).toThrow(/type the value for API_KEY/);
  });

  test("the mask is not a value, and a name twice is refused", () => {
    expect(() => envPatch(loaded, rowsOf(["GREETING", "****"]))).toThrow(/mask/);
    expect(() => envPatch(loaded, rowsOf(["A", "1"], ["A", "2"]))).toThrow(/twice/);
  });
});
