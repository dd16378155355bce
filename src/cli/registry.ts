// `staxa registry`: the cluster registry the swarm engine pushes to and every node pulls from (Debian's
// docker-registry), run beside the appliance like `staxa resolver`. First run creates its CA, certificate and
// credentials (src/registry-server/material.ts); the local engine (the manager) is made to trust the CA.
import { fstatSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, type Config } from "../config.ts";
import { certsDPath, ensureMaterial, registryDir } from "../registry-server/material.ts";

export async function registryCommand(config: Config): Promise<number> {
  const address = config.clusterRegistryAddr;
  if (!address) throw new ConfigError("staxa registry needs STAXA_CLUSTER_REGISTRY_ADDR (host:port every node reaches)");
  const { caPem, configPath } = await ensureMaterial(registryDir(config), address);
  // The manager pushes from this host; other nodes get the same file from the join answer (registry.ca_pem).
  try {
    mkdirSync(dirname(certsDPath(address)), { recursive: true });
    writeFileSync(certsDPath(address), caPem, { mode: 0o644 });
  } catch (e) {
    process.stderr.write(`staxa registry: could not write ${certsDPath(address)}: ${(e as Error).message}\n`);
  }
  const child = Bun.spawn(["docker-registry", "serve", configPath], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  process.stdout.write(`registry listening on https://${address}\n`);
  const stop = () => child.kill("SIGTERM");
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Started with a pipe for stdin (a test harness): it ends with its starter, as the resolver does.
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on("end", stop);
    process.stdin.resume();
  }
  return await child.exited;
}
