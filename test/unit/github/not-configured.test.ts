// No installation is a 404 that says whether the GitHub App is configured on this server, so the dashboard can
// tell "register an installation" from "an administrator must set the App up" (issue 22).
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";

describe("GET /github/installation without an installation", () => {
  test("says app_configured: false when STAXA_GITHUB_APP_ID / STAXA_GITHUB_PRIVATE_KEY_FILE are unset", async () => {
    const a = await fakeApp({});
    const r = await a.call("GET", "/api/v1/github/installation");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("not_found");
    expect(r.json.error.details.app_configured).toBe(false);
  });

  test("says app_configured: true when the App is set up (nothing registered yet)", async () => {
    const a = await fakeApp({ STAXA_GITHUB_APP_ID: "12345", STAXA_GITHUB_PRIVATE_KEY_FILE: "/nonexistent/key.pem" });
    const r = await a.call("GET", "/api/v1/github/installation");
    expect(r.status).toBe(404);
    expect(r.json.error.details.app_configured).toBe(true);
  });
});
