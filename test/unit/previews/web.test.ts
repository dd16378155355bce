// Dashboard logic of the Previews tab: the overrides textarea (KEY=VALUE sets, -KEY removes) round-trips, and a
// masked secret is never sent back as its four stars.
import { describe, expect, test } from "bun:test";
import { overridesOf, overridesText } from "../../../web/src/pages/tenant/previews.tsx";

describe("overrides textarea", () => {
  test("KEY=VALUE and -KEY lines; a value keeps its '=' and spaces; blank lines and comments skipped", () => {
    expect(overridesOf("APP_ENV=preview\n\n# live keys stay out\n-STRIPE_KEY\r\nURL=http://x/?a=b c\n")).toEqual({
      env: { APP_ENV: "preview", STRIPE_KEY: null, URL: "http://x/?a=b c" },
      problems: [],
    });
  });
  test("the text of the settings parses back to the same overrides", () => {
    const o = [
      { key: "A", value: "1" },
      { key: "B", value: null },
    ];
    expect(overridesText(o)).toBe("A=1\n-B");
    expect(overridesOf(overridesText(o)).env).toEqual({ A: "1", B: null });
  });
  test("a line of neither form, and a masked secret left as ****, are problems", () => {
    expect(overridesOf("JUSTAWORD\nDB_PASSWORD=****").problems).toEqual([
      "line 1: expected KEY=VALUE or -KEY",
      "DB_PASSWORD: enter the secret's value again (it is shown masked)",
    ]);
  });
});
