// What a first run shows in the dashboard (issue 22), in Debian's Chromium against the compiled binary, real
// Docker and Caddy: the stepper in the order the API sends the stages (health before route, never "route
// skipped" while health runs), one env var added without retyping a secret, a failed deploy's reason and build
// log, "Open app" only where the app serves, the repository changed in Settings, the GitHub page without an
// App, and the 390 px layout with its menu. Screenshots go to test-artifacts/screenshots/fb-*.png.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { fixtureRepo } from "../support/e2e-app.ts";
import { expectCleanText, launchBrowser, screenshot, startAppliance, type Appliance } from "./harness.ts";

const PREFIX = uniqueName("fbk");
const BASE = "e2e-feedback.test";
const good = `${PREFIX}-ok`;
const bad = `${PREFIX}-bad`;
const STAGES = ["provision", "build", "deploy", "health", "route", "ready"];
let app: Appliance;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
const repos: Record<string, string> = {};
let goodId = "";
let badId = "";
let key = "";

beforeAll(async () => {
  await ensureTestImages();
  app = await startAppliance({ baseDomain: BASE });
  repos.good = await fixtureRepo("feedback v1");
  repos.other = await fixtureRepo("feedback from the other repository");
  // Fails in `docker build` after printing a line: the build log must hold the steps, that line and the failure.
  repos.bad = await fixtureRepo("never served", { extraRun: "echo compiling the broken app && exit 3" });
  browser = await launchBrowser(BASE);
  ctx = browser.ctx;
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on("dialog", (d) => void d.accept());
  page.on("pageerror", (e) => {
    throw new Error(`uncaught error in the page: ${e.message}`);
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  for (const dir of Object.values(repos)) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The API as the test reads it, with a key of its own (the dashboard's rate budget stays the dashboard's). */
async function apiCall(method: string, path: string, body?: unknown): Promise<any> {
  if (!key) {
    const token = await page.evaluate(() => localStorage.getItem("staxa.token"));
    const res = await fetch(`${app.url}/api/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "x-staxa-mode": "live", "content-type": "application/json" },
      body: JSON.stringify({ name: "feedback test reader", mode: "live", scopes: ["*"] }),
    });
    key = (await res.json()).data.key;
  }
  const res = await fetch(`${app.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** The events the API replays for a tenant's latest deployment (the stream ends after its final event). */
async function apiEvents(tenantId: string): Promise<Array<{ stage: string; status: string; deployment_id: string | null }>> {
  await apiCall("GET", `/tenants/${tenantId}`); // makes the test's key
  const res = await fetch(`${app.url}/api/v1/tenants/${tenantId}/events`, {
    headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
    signal: AbortSignal.timeout(30_000),
  });
  return [...(await res.text()).matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]));
}

/** The stepper's labels and states right now: [["provision", "done"], …]. */
function stepperNow(): Promise<string[][]> {
  return page.locator(".stepper li").evaluateAll((lis) => lis.map((li) => [li.childNodes[0]!.textContent!.trim(), li.className]));
}

/** Waits until the stepper shows "ready" done for a deployment other than `not`; returns its id. */
async function waitReady(not?: string): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const dep = await page
      .locator(".stepper")
      .locator("xpath=preceding-sibling::p/code")
      .textContent()
      .catch(() => null);
    const ready = await page
      .locator(".stepper li", { hasText: /^ready/ })
      .getAttribute("class")
      .catch(() => null);
    if (dep && dep !== not && ready === "done") return dep;
    if (await page.locator(".stepper li.failed").count())
      throw new Error(`deployment failed: ${await page.locator(".note.error").first().textContent()}`);
    if (Date.now() > deadline) throw new Error(`the stepper did not reach ready (deployment ${dep})`);
    await Bun.sleep(300);
  }
}

async function appBody(name: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/`, {
    headers: { host: `${name}.${BASE}` },
    signal: AbortSignal.timeout(5000),
  });
  return (await res.text()).trim();
}

describe("dashboard: a first run's feedback", () => {
  test("first-run setup", async () => {
    const token = readFileSync(join(app.dataDir, "setup-token"), "utf8").trim();
    await page.goto(app.url);
    await page.getByLabel("Setup token").fill(token);
    await page.getByLabel("Email").fill("admin@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create administrator" }).click();
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
  }, 30_000);

  test("the stepper shows the stages in the API's order: health before route, never route skipped while health runs", async () => {
    // Every state the stepper is ever rendered in, recorded in the page (polling could miss a short one).
    await page.evaluate(() => {
      const w = window as any;
      w.__stepper = [];
      new MutationObserver(() => {
        const lis = Array.from(document.querySelectorAll(".stepper li"));
        if (!lis.length) return;
        const snap = lis.map((li) => `${li.childNodes[0]!.textContent!.trim()}:${li.className}`).join(" ");
        if (w.__stepper.at(-1) !== snap) w.__stepper.push(snap);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.getByRole("link", { name: "New tenant" }).click();
    await page.getByLabel("Name", { exact: true }).fill(good);
    await page.getByLabel("Repository URL").fill(`file://${repos.good}`);
    await page.getByLabel("App port (optional)").fill("3000");
    await page.getByLabel("Environment (.env format, optional)").fill("GREETING=hello\nAPI_TOKEN=s3cret-kept");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.waitForURL(/\/tenants\/ten_/);
    goodId = new URL(page.url()).pathname.split("/")[2];
    const dep = await waitReady();
    await page.getByRole("link", { name: "Open app ↗" }).waitFor();
    await expectCleanText(page);
    await screenshot(page, "fb-01-stepper-ready");

    const seen: string[] = await page.evaluate(() => (window as any).__stepper);
    console.log(`stepper states seen while deploying:\n  ${seen.join("\n  ")}`);
    expect(seen.length).toBeGreaterThan(1); // it was watched while running, not only at the end
    for (const snap of seen) {
      const steps = snap.split(" ").map((s) => s.split(":"));
      expect(steps.map(([stage]) => stage)).toEqual(STAGES);
      const state = Object.fromEntries(steps);
      if (state.health !== "done") expect(state.route).not.toBe("skipped");
      expect(Object.values(state)).not.toContain("skipped"); // a build from source runs every stage
    }
    expect(seen.at(-1)).toBe(STAGES.map((s) => `${s}:done`).join(" "));
    // The order shown is the order in which the API sent the stages of this deployment.
    const events = (await apiEvents(goodId)).filter((e) => e.deployment_id === dep && STAGES.includes(e.stage));
    const sent = [...new Set(events.map((e) => e.stage))];
    expect(sent).toEqual(STAGES);
    expect((await stepperNow()).map(([s]) => s)).toEqual(sent);
    expect(await appBody(good)).toBe("feedback v1");
  }, 150_000);

  test("env: adding one variable sends only it; the hidden secret is not retyped and still reaches the app", async () => {
    const before = (await page.locator(".stepper").locator("xpath=preceding-sibling::p/code").textContent())!;
    await page.getByRole("link", { name: "Environment" }).click();
    await page.getByLabel("Value of GREETING").waitFor();
    expect(await page.getByLabel("Value of API_TOKEN").inputValue()).toBe(""); // hidden, never "****" in an input
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Name of variable 3").fill("FEATURE");
    await page.getByLabel("Value of FEATURE").fill("on");
    await screenshot(page, "fb-02-env-add-one");
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith("/env") && ["PUT", "PATCH"].includes(r.method())),
      page.getByRole("button", { name: "Save and redeploy" }).click(),
    ]);
    expect([req.method(), req.postDataJSON()]).toEqual(["PATCH", { set: { FEATURE: "on" } }]);
    await page
      .getByRole("status")
      .filter({ hasText: /Redeploying/ })
      .waitFor();
    expect(await page.getByLabel("Value of API_TOKEN").inputValue()).toBe("");
    await expectCleanText(page);
    await screenshot(page, "fb-03-env-saved");
    const env = Object.fromEntries((await apiCall("GET", `/tenants/${goodId}/env`)).data.map((v: any) => [v.key, v.value]));
    expect(env).toEqual({ API_TOKEN: "****", FEATURE: "on", GREETING: "hello" });
    await page.getByRole("link", { name: "Overview" }).click();
    const redeploy = await waitReady(before);
    // The redeployed container has the new variable and the secret nobody typed again.
    const ids = (
      await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${good}`, "--filter", `label=staxa.deployment=${redeploy}`])
    ).out
      .split("\n")
      .filter(Boolean);
    expect(ids.length).toBe(1);
    const vars = JSON.parse((await dockerCli(["inspect", "--format", "{{json .Config.Env}}", ids[0]])).out) as string[];
    expect(vars).toContain("FEATURE=on");
    expect(vars).toContain("API_TOKEN=s3cret-kept");
  }, 150_000);

  test("a failed deploy: the reason in the list and on the page, its build log with the failure, no Open app", async () => {
    badId = (
      await apiCall("POST", "/tenants", { name: bad, source_type: "github", repo_url: `file://${repos.bad}`, branch: "main" })
    ).data.id;
    const deadline = Date.now() + 120_000;
    let t: any;
    while ((t = (await apiCall("GET", `/tenants/${badId}`)).data).status !== "failed") {
      if (Date.now() > deadline) throw new Error(`the broken tenant did not fail: ${t.status}`);
      await Bun.sleep(500);
    }
    console.log(`the broken tenant's status_reason: ${t.status_reason}`);
    expect(t.status_reason).toMatch(/\S{5}/);
    await page.goto(`${app.url}/tenants?search=${PREFIX}`);
    const row = page.locator("tr", { has: page.getByRole("link", { name: bad, exact: true }) });
    await row.locator(".badge", { hasText: "failed" }).waitFor();
    expect((await row.locator(".reason").textContent())!.trim()).toBe(t.status_reason);
    // Only the serving tenant's URL is a link.
    expect(await row.locator("td[data-label=URL] a").count()).toBe(0);
    expect(
      await page
        .locator("tr", { has: page.getByRole("link", { name: good, exact: true }) })
        .locator("td[data-label=URL] a")
        .count(),
    ).toBe(1);
    await expectCleanText(page);
    await screenshot(page, "fb-04-tenants-failed-reason");

    // Watch the build log panel from the moment the page opens: "(no output yet)" must never show for it.
    await page.evaluate(() => {
      const w = window as any;
      w.__logTexts = [];
      new MutationObserver(() => {
        for (const pre of Array.from(document.querySelectorAll("pre.log")))
          if (w.__logTexts.at(-1) !== pre.textContent) w.__logTexts.push(pre.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole("link", { name: bad, exact: true }).click();
    await page.locator("h1 .badge", { hasText: "failed" }).waitFor();
    await page.locator(".stepper li.failed", { hasText: /^build/ }).waitFor();
    const log = page.locator("pre.log").filter({ hasText: "[error]" });
    await log.waitFor({ timeout: 10_000 });
    const text = (await log.textContent())!;
    expect(text).toContain("compiling the broken app");
    expect(text).toMatch(/\[build\] Cloning main/);
    expect(text).toMatch(/\[error\] build failed: .+/);
    const body = await expectCleanText(page);
    expect(body).toContain(t.status_reason);
    expect(body).not.toContain("(no output yet)");
    expect(await page.evaluate(() => (window as any).__logTexts as string[])).not.toContain("(no output yet)");
    expect(await page.getByRole("link", { name: /Open app/ }).count()).toBe(0);
    expect(await page.locator("dl.props").textContent()).toContain("(not serving)");
    await screenshot(page, "fb-05-failed-deploy");

    // The Deployments tab: the reason under the status, the same log under "Log".
    await page.getByRole("link", { name: "Deployments" }).click();
    const dep = page.locator("tbody tr").first();
    await dep.locator(".badge", { hasText: "failed" }).waitFor();
    expect(await dep.locator("td[data-label=Status]").textContent()).toContain(t.status_reason);
    await dep.getByRole("button", { name: "Log" }).click();
    await page.locator("pre.log").filter({ hasText: "[error] build failed" }).waitFor();
    await expectCleanText(page);
    await screenshot(page, "fb-06-failed-deployments-tab");
  }, 180_000);

  test("Settings changes the repository: a bad URL is refused at the field, a good one rebuilds from it", async () => {
    await page.goto(`${app.url}/tenants/${goodId}/settings`);
    const field = page.getByLabel("Repository URL");
    expect(await field.inputValue()).toBe(`file://${repos.good}`);
    await field.fill("ext::sh -c id");
    await page.getByRole("button", { name: "Save settings" }).click();
    const refused = page.locator(".field.invalid .field-error");
    await refused.waitFor();
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect((await apiCall("GET", `/tenants/${goodId}`)).data.repo_url).toBe(`file://${repos.good}`);
    await field.fill(`file://${repos.other}`);
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith(`/tenants/${goodId}`) && r.method() === "PATCH"),
      page.getByRole("button", { name: "Save settings" }).click(),
    ]);
    expect(req.postDataJSON()).toEqual({ repo_url: `file://${repos.other}` });
    await page.getByRole("status").filter({ hasText: "a new build and deployment started" }).waitFor();
    await expectCleanText(page);
    await screenshot(page, "fb-07-settings-repository");
    expect((await apiCall("GET", `/tenants/${goodId}`)).data.repo_url).toBe(`file://${repos.other}`);
    const current = (await apiCall("GET", `/tenants/${goodId}`)).data.deployments.find((d: any) => d.status === "succeeded")?.id;
    await page.getByRole("link", { name: "Overview" }).click();
    await waitReady(current);
    expect(await appBody(good)).toBe("feedback from the other repository");
  }, 150_000);

  test("the GitHub page says the GitHub App is not configured", async () => {
    await page.getByRole("link", { name: "GitHub" }).click();
    await page.getByRole("heading", { name: "The GitHub App is not configured on this server" }).waitFor();
    expect(await page.locator("main").textContent()).toContain("STAXA_GITHUB_APP_ID");
    expect(await page.getByRole("button", { name: "Register" }).count()).toBe(0);
    await expectCleanText(page);
    await screenshot(page, "fb-08-github-not-configured");
  }, 30_000);

  test("390 px: nothing overflows, and the menu opens, navigates and closes", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${app.url}/tenants/${badId}`);
      await page.locator("h1 .badge", { hasText: "failed" }).waitFor();
      const overflow = () =>
        page.evaluate(() => ({
          page: document.documentElement.scrollWidth - window.innerWidth,
          header:
            Array.from(document.querySelectorAll("header.top, header.top *"))
              .filter((el) => (el as HTMLElement).offsetParent !== null)
              .map((el) => el.getBoundingClientRect().right)
              .reduce((a, b) => Math.max(a, b), 0) - window.innerWidth,
        }));
      let o = await overflow();
      expect(o.page).toBeLessThanOrEqual(0);
      expect(o.header).toBeLessThanOrEqual(0);
      const menu = page.getByRole("button", { name: "Menu" });
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      expect(await page.getByRole("link", { name: "Webhooks" }).isVisible()).toBe(false);
      await screenshot(page, "fb-09-phone-menu-closed");
      await menu.click();
      expect(await menu.getAttribute("aria-expanded")).toBe("true");
      for (const label of ["Tenants", "API keys", "Registries", "GitHub", "Webhooks", "Account"]) {
        const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true });
        expect(await link.isVisible()).toBe(true);
      }
      o = await overflow();
      expect(o.page).toBeLessThanOrEqual(0);
      expect(o.header).toBeLessThanOrEqual(0);
      await screenshot(page, "fb-10-phone-menu-open");
      await page.keyboard.press("Escape");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
      await menu.click();
      await page.getByRole("link", { name: "Webhooks" }).click();
      await page.getByRole("heading", { name: "Add an endpoint" }).waitFor();
      expect(new URL(page.url()).pathname).toBe("/webhooks");
      expect(await menu.getAttribute("aria-expanded")).toBe("false"); // navigating closes it
      expect(await page.getByRole("link", { name: "Tenants", exact: true }).isVisible()).toBe(false);
      o = await overflow();
      expect(o.page).toBeLessThanOrEqual(0);
      await expectCleanText(page);
      await screenshot(page, "fb-11-phone-after-menu");
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
    // Wide, the links are in the bar and the menu button is not shown.
    expect(await page.getByRole("button", { name: "Menu" }).isVisible()).toBe(false);
    expect(await page.getByRole("link", { name: "Tenants", exact: true }).isVisible()).toBe(true);
  }, 60_000);
});
