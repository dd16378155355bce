// Gives a Caddy that restarted empty (or lost its config) the appliance's config back, from the store, within seconds,
// whether or not the appliance is running. The check is one small admin call every CHECK_MS: is our route there?
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Db } from "../store/db.ts";
import { getCaddyConfig } from "../store/proxy-routes.ts";
import { AdminClient } from "./admin-client.ts";
import { PROXY_ID } from "./config.ts";

const CHECK_MS = 2000;

/** Starts the watch; returns its stop function. */
export function watchCaddy(config: Config, db: () => Db | undefined, log: Logger): () => void {
  const admin = new AdminClient(config.caddyAdminUrl, 5000);
  let busy = false;
  const check = async () => {
    const store = db();
    if (busy || !store) return;
    busy = true;
    try {
      const wanted = getCaddyConfig(store);
      if (!wanted) return; // the appliance has never started on this store: nothing to restore yet
      const res = await admin.call("GET", `/id/${PROXY_ID}`, undefined, [200, 400, 404, 500]);
      await res.arrayBuffer();
      if (res.status === 200) return;
      await admin.call("POST", "/load", JSON.parse(wanted));
      log.info("caddy had lost its config; loaded it back", { admin: config.caddyAdminUrl });
    } catch (err) {
      // Caddy not answering (stopped, restarting) is the usual case here: the next check tries again.
      log.debug("caddy check failed", { error: (err as Error).message });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), CHECK_MS);
  void check();
  return () => clearInterval(timer);
}
