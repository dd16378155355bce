// image_url naming an image by id (a bare hex prefix of any length, or sha256:…) resolves to whatever image is on
// this server, another provider's private build included: refused with 400 naming image_url, nothing created.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { imageRef } from "../../../src/core/input.ts";

const ID = "e72debc9b880228c84102125001f7c7d8f8182dd1913e94becf342bd66938f36";
const count = (db: any, table: string) => db.query(`SELECT COUNT(*) AS n FROM ${table}`).get().n as number;

describe("image_url naming an image id is refused", () => {
  const ids = [ID, ID.slice(0, 12), ID.slice(0, 5), `sha256:${ID}`, `sha256:${ID.slice(0, 12)}`, "0"];
  test.each(ids)("POST /tenants refuses image_url %p with 400 naming image_url", async (id) => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", { name: "byid", source_type: "image", image_url: id });
    expect(r.status).toBe(400);
    expect(r.json.error.details).toMatchObject({ field: "image_url" });
    expect(r.json.error.message).toContain("by id");
    expect(count(a.ctx.db, "tenants")).toBe(0);
  });

  test.each(["alpine", "nginx:1.27", "cafe-app", "deadbeef/app:1", `ghcr.io/a/b@sha256:${ID}`])(
    "a name that is not an id is accepted: %p",
    (v) => {
      expect(imageRef(v)).toBe(v);
    },
  );
});
