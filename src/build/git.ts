// Safe git clone. Placeholder until the build module lands.
import type { Config } from "../config.ts";
import type { Git } from "./types.ts";
import { Upstream } from "../lib/errors.ts";

export function createGit(_config: Config): Git {
  return {
    async clone() {
      throw new Upstream("git", "git not available");
    },
  };
}
