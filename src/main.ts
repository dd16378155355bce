#!/usr/bin/env bun
// The staxa CLI: the one composition root. serve | migrate | admin create-key | version | --help
import { loadConfig, ConfigError, settingsTable } from "./config.ts";
import { HelpRequested, parseArgs, usageOf, UsageError } from "./cli/args.ts";
import { serve } from "./cli/serve.ts";
import { resolverCommand } from "./cli/resolver.ts";
import { agentCommand } from "./cli/agent.ts";
import { registryCommand } from "./cli/registry.ts";
import { adminCreateKey } from "./cli/admin.ts";
import { backupCommand, restoreCommand } from "./cli/backup.ts";
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from "./cli/client/index.ts";
import { openDb, migrate, schemaVersion } from "./store/db.ts";
import pkg from "../package.json" with { type: "json" };

export const USAGE = `staxa — a multi-tenant application platform on one server

Usage:
  staxa serve                              run the appliance (API + dashboard on STAXA_PORT)
  staxa resolver                           run the route resolver Caddy asks for upstreams (its own service)
  staxa registry                           run the cluster registry nodes pull from (swarm; STAXA_CLUSTER_REGISTRY_ADDR)
  staxa agent --manager URL --token T [--docker-socket S]
                                           run the node agent of a swarm node (docs/swarm.md: network rules)
  staxa migrate                            apply database migrations and exit
  staxa admin create-key --email E [--name N] [--mode live|test]
                                           create the provider if needed; print only the raw API key
  staxa backup <file> [--passphrase-file F] [--force] [--with-tenant-backups]
                                           online backup of the store and secret key (encrypted with a passphrase);
                                           --with-tenant-backups adds the tenants' volume backup files
  staxa restore <file> [--passphrase-file F] [--force]
                                           restore into an empty STAXA_DATA_DIR (--force replaces its store and key)
  staxa version                            print the version
  staxa --help                             this help

${CLIENT_USAGE}
Settings (environment variables, with defaults):
${settingsTable()
  .map(([n, d, desc]) => `  ${n.padEnd(30)} ${(d || '""').padEnd(22)} ${desc}`)
  .join("\n")}
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === "version" || cmd === "--version") {
    process.stdout.write(`staxa ${pkg.version}\n`);
    return 0;
  }
  if (CLIENT_COMMANDS.includes(cmd)) return runClient(cmd, rest); // client of a remote appliance: needs no server settings
  try {
    if (cmd === "agent") return await agentCommand(parseArgs(rest)); // a node holds no store: no settings needed
    const config = loadConfig();
    switch (cmd) {
      case "serve": {
        parseArgs(rest).done();
        await serve(config);
        return -1; // keeps running
      }
      case "resolver": {
        parseArgs(rest).done();
        await resolverCommand(config);
        return -1; // keeps running
      }
      case "registry":
        parseArgs(rest).done();
        return await registryCommand(config);
      case "migrate": {
        parseArgs(rest).done();
        const db = openDb(config.dbPath);
        const applied = migrate(db);
        process.stdout.write(`schema version ${schemaVersion(db)} (applied: ${applied.join(", ") || "none"})\n`);
        db.close();
        return 0;
      }
      case "admin": {
        const [sub, ...more] = rest;
        if (sub !== "create-key") {
          parseArgs(rest); // `admin --help`
          throw new UsageError(`unknown admin command "${sub ?? ""}"`);
        }
        const flags = parseArgs(more);
        adminCreateKey(config, flags);
        flags.done();
        return 0;
      }
      case "backup":
        return backupCommand(config, parseArgs(rest, ["force", "with-tenant-backups"]));
      case "restore":
        return restoreCommand(config, parseArgs(rest, ["force"]));
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    // A command's own usage lines, not the whole list (which `staxa --help` prints).
    if (err instanceof HelpRequested) {
      process.stdout.write(usageOf(USAGE, cmd) ?? USAGE);
      return 0;
    }
    if (err instanceof UsageError) {
      const own = usageOf(USAGE, cmd);
      process.stderr.write(`staxa: ${err.message}\n\n${own ? `${own}(staxa --help lists every command)\n` : USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`staxa: invalid configuration: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
