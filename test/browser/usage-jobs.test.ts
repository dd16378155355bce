// The Usage and Jobs tabs in Debian's Chromium against the compiled binary, real Docker and Caddy: a tenant burning
// CPU shows its CPU in the table and as a sparkline drawn from the appliance's sampled history; a job created in
// the Jobs tab (command one argument per line) runs now and its run shows exit code 3 and its output.
// Screenshots go to test-artifacts/screenshots/uj-*.png.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { BUSYBOX_IMAGE, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { expectCleanText, launchBrowser, screenshot, startAppliance, type Appliance } from "./harness.ts";

const PREFIX = uniqueName("ujb");
const BASE = "e2e-usage.test";
let app: Appliance;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let key = "";
let tenantId = "";

beforeAll(async () => {
  await ensureTestImages();
  app = await startAppliance({ baseDomain: BASE });
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
}, 60_000);

/** The API with a key of the test's own, made from the dashboard's session. */
async function apiCall(method: string, path: string, body?: unknown): Promise<any> {
  if (!key) {
    const token = await page.evaluate(() => localStorage.getItem("staxa.token"));
    const res = await fetch(`${app.url}/api/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "x-staxa-mode": "live", "content-type": "application/json" },
      body: JSON.stringify({ name: "usage test", mode: "live", scopes: ["*"] }),
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

describe("dashboard: usage graph and jobs", () => {
  test("first-run setup, and a tenant burning CPU", async () => {
    const token = readFileSync(join(app.dataDir, "setup-token"), "utf8").trim();
    await page.goto(app.url);
    await page.getByLabel("Setup token").fill(token);
    await page.getByLabel("Email").fill("admin@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create administrator" }).click();
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
    const t = await apiCall("POST", "/tenants", {
      name: `${PREFIX}-hot`,
      services: [
        {
          name: "web",
          source_type: "image",
          image_url: BUSYBOX_IMAGE,
          port: 3000,
          is_routable: true,
          command: [
            "sh",
            "-c",
            "trap 'exit 0' TERM; mkdir -p /w; echo hot > /w/index.html; httpd -p 3000 -h /w; while :; do :; done",
          ],
        },
      ],
    });
    tenantId = t.data.id;
    const deadline = Date.now() + 60_000;
    while ((await apiCall("GET", `/tenants/${tenantId}`)).data.status !== "ready") {
      if (Date.now() > deadline) throw new Error("the tenant did not become ready");
      await Bun.sleep(500);
    }
  }, 90_000);

  test("the Usage tab shows the CPU and a sparkline of the sampled history", async () => {
    // The appliance samples every 10 s: two samples make a line.
    const deadline = Date.now() + 40_000;
    while (((await apiCall("GET", `/tenants/${tenantId}/usage`)).data.services[0]?.history.length ?? 0) < 2) {
      if (Date.now() > deadline) throw new Error("no two usage samples within 40 s");
      await Bun.sleep(1000);
    }
    await page.goto(`${app.url}/tenants/${tenantId}/usage`);
    const row = page.locator('tr[data-service="web"]');
    await row.waitFor();
    const cpu = Number(/([0-9.]+) %/.exec(await row.locator('td[data-label="CPU"]').innerText())?.[1]);
    expect(cpu).toBeGreaterThan(20);
    const points = (await row.locator('svg[aria-label="CPU of web"] polyline').getAttribute("points")) ?? "";
    expect(points.split(" ").filter(Boolean).length).toBeGreaterThanOrEqual(2);
    // The line is drawn on a 0-100 % scale in a 30 px box: above 20 % CPU it rises more than 6 px off the bottom.
    expect(Math.min(...points.split(" ").map((p) => Number(p.split(",")[1])))).toBeLessThan(24);
    await expectCleanText(page);
    await screenshot(page, "uj-01-usage");
  }, 60_000);

  test("a job created in the Jobs tab runs now and shows its exit code and output", async () => {
    await page.goto(`${app.url}/tenants/${tenantId}/jobs`);
    await page.getByLabel("Schedule (cron)").fill("0 3 * * *");
    await page.getByLabel("Command, one argument per line").fill("sh\n-c\necho job says hi; exit 3");
    await page.getByRole("button", { name: "Create job" }).click();
    await page.getByText("Job created").waitFor();
    await page.getByRole("button", { name: "Run now" }).click();
    await page.getByText("Run started.").waitFor();
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.getByRole("button", { name: "Refresh runs" }).click();
      if (
        (await page
          .locator("tr[data-run] td[data-label=Exit]")
          .first()
          .innerText()
          .catch(() => "")) === "3"
      )
        break;
      if (Date.now() > deadline) throw new Error("the run did not finish");
      await Bun.sleep(500);
    }
    await page.locator("tr[data-run]").first().getByRole("button", { name: "Logs" }).click();
    await expect(page.locator("pre.logs").innerText()).resolves.toBe("job says hi");
    await expectCleanText(page);
    await screenshot(page, "uj-02-jobs");
  }, 60_000);
});
