// `staxa node join-command` prints, for a human on the new server, every step of the join in order: the registry's
// CA first (its engine must trust the registry before the first task is placed on it), then the swarm join, then
// the node agent. Arguments a shell would split or expand are quoted.
import { expect, test } from "bun:test";
import { joinScript } from "../../../src/cli/client/nodes.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

test("with the built-in registry: CA, join, agent, in that order", () => {
  const text = joinScript({
    argv: ["docker", "swarm", "join", "--token", "SWMTKN-1-abc", "10.0.0.1:2377"],
    agent_argv: ["staxa", "agent", "--manager", "https://10.0.0.1:8080", "--token", "tok"],
    registry: { address: "10.0.0.1:5000", ca_path: "/etc/docker/certs.d/10.0.0.1:5000/ca.crt", ca_pem: PEM },
  });
  const lines = text.trimEnd().split("\n");
  expect(lines.filter((l) => !l.startsWith("#"))).toEqual([
    "mkdir -p /etc/docker/certs.d/10.0.0.1:5000",
    "cat > /etc/docker/certs.d/10.0.0.1:5000/ca.crt <<'EOF'",
    "-----BEGIN CERTIFICATE-----",
    "MIIB",
    "-----END CERTIFICATE-----",
    "EOF",
    "docker swarm join --token SWMTKN-1-abc 10.0.0.1:2377",
    "staxa agent --manager https://10.0.0.1:8080 --token tok",
  ]);
  expect(lines.filter((l) => l.startsWith("#")).map((l) => l.slice(0, 4))).toEqual(["# 1.", "# 2.", "# 3."]);
});

test("without a registry the join is step 1, and odd arguments are quoted", () => {
  const text = joinScript({
    argv: ["docker", "swarm", "join", "--token", "a b;c", "10.0.0.1:2377"],
    agent_argv: ["staxa", "agent", "--token", "it's"],
  });
  expect(text).toContain("# 1. join the swarm\ndocker swarm join --token 'a b;c' 10.0.0.1:2377\n");
  expect(text).toContain("staxa agent --token 'it'\\''s'\n");
  expect(text).not.toContain("certs.d");
});
