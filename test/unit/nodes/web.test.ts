// Dashboard logic of the Nodes page: tenants placed on a node grouped from its tasks, resources in words, the join
// argv as one pasteable line (quoted where a shell would split it), and the single-host 409 told apart from failures.
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../../web/src/api.ts";
import { commandLine, isNotClustered, placedTenants, resourcesText } from "../../../web/src/pages/nodes.tsx";

describe("nodes page", () => {
  test("tasks grouped by tenant, a service's replicas counted, tenants in order", () => {
    expect(
      placedTenants([
        { tenant: "shop", service: "web", state: "running" },
        { tenant: "blog", service: "web", state: "running" },
        { tenant: "shop", service: "web", state: "running" },
        { tenant: "shop", service: "worker", state: "starting" },
      ]),
    ).toEqual([
      ["blog", "web"],
      ["shop", "web ×2, worker"],
    ]);
    expect(placedTenants([])).toEqual([]);
  });
  test("resources: CPUs and GiB, a dash when unknown", () => {
    expect(resourcesText({ cpus: 2, memory_bytes: 4 * 1073741824 })).toBe("2 CPUs · 4.0 GiB");
    expect(resourcesText({ cpus: 1, memory_bytes: 536870912 })).toBe("1 CPU · 0.5 GiB");
    expect(resourcesText({ cpus: 0, memory_bytes: 0 })).toBe("—");
  });
  test("the join argv as one line: plain words as they are, others single-quoted", () => {
    expect(commandLine(["docker", "swarm", "join", "--token", "SWMTKN-1-abc", "10.0.0.2:2377"])).toBe(
      "docker swarm join --token SWMTKN-1-abc 10.0.0.2:2377",
    );
    expect(commandLine(["echo", "a b", "it's", "$(x)"])).toBe(`echo 'a b' 'it'\\''s' '$(x)'`);
  });
  test("only a 409 not_clustered is the single-host explanation", () => {
    expect(isNotClustered(new ApiError(409, "not_clustered", "one engine"))).toBe(true);
    expect(isNotClustered(new ApiError(409, "node_in_use", "leader"))).toBe(false);
    expect(isNotClustered(new ApiError(500, "internal", "x"))).toBe(false);
    expect(isNotClustered(null)).toBe(false);
  });
});
