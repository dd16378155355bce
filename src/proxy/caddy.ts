// Caddy admin API implementation of Proxy. Placeholder until the proxy lands.
import type { Config } from "../config.ts";
import type { Proxy } from "./types.ts";
import { Upstream } from "../lib/errors.ts";

export function createCaddyProxy(_config: Config): Proxy {
  const no = async (): Promise<never> => {
    throw new Upstream("caddy", "proxy not available");
  };
  return { init: no, setRoute: no, removeRoute: no, listRoutes: no, hasHost: () => false };
}
