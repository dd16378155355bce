// The client half of the `staxa` binary: commands that drive a remote appliance over its public API.
// Exit codes: 0 ok, 1 API error or failed deploy, 2 usage error.
import { HelpRequested, parseArgs, usageOf, UsageError } from "../args.ts";
import { loadCredentials, normaliseUrl, saveCredentials } from "./credentials.ts";
import { ApiClient, ApiError } from "./http.ts";
import { stdOut, type Out } from "./output.ts";
import { templatesCommand, tenantsCommand } from "./tenants.ts";
import { deployCommand } from "./deploy.ts";
import { logsCommand } from "./logs.ts";
import { envCommand } from "./env.ts";
import { domainsCommand } from "./domains.ts";
import { jobsCommand } from "./jobs.ts";
import { scaleCommand } from "./scale.ts";
import { backupsCommand } from "./backups.ts";
import { previewsCommand } from "./previews.ts";
import { nodeCommand } from "./nodes.ts";

export const CLIENT_COMMANDS = [
  "login",
  "tenants",
  "templates",
  "deploy",
  "logs",
  "env",
  "domains",
  "jobs",
  "previews",
  "backups",
  "scale",
  "node",
];

// One text: `staxa --help` shows it whole, `staxa <command> --help` and a usage error show the command's lines.
export const CLIENT_USAGE = `Client commands (drive a remote appliance; add --json for machine-readable output):
  staxa login --url URL --key KEY          save the appliance URL and API key (~/.config/staxa/config.json, 0600);
                                           URL may omit the scheme: http:// for localhost and 127.x, else https://
                                           (or set STAXA_URL and STAXA_API_KEY)
  staxa tenants list [--status S]
  staxa tenants create NAME (--repo URL [--branch B] | --image IMAGE | --template ID) [--port N] [--wait]
                                           --template: a template of the catalog (staxa templates), built from the
                                           source bundled in the appliance; --wait follows the first deploy
  staxa tenants get TENANT                 TENANT is a name or a ten_ id
  staxa tenants delete TENANT [--yes]      asks y/N on a terminal; without one, deletes only with --yes
  staxa templates                          the template catalog (ids for tenants create --template)
  staxa deploy TENANT [--branch B] [--commit SHA]
                                           deploy and follow the stages; exit 1 if it fails
  staxa logs TENANT [-f] [--lines N]       container logs (-f follows)
  staxa env get TENANT                     secret values show as ****
  staxa env set TENANT KEY=VALUE... [--replace]
                                           set these keys; the others (secrets too) stay as they are;
                                           --replace: these become the whole environment
  staxa env unset TENANT KEY...            remove these keys; the others stay
  staxa domains list|add|verify|delete TENANT [DOMAIN] [--primary]
  staxa jobs create TENANT --schedule CRON [--service S] [--timeout SEC] [--policy forbid|allow|replace] -- CMD ARG...
                                           a scheduled job (5-field cron, UTC); the command is an argv, no shell added
  staxa jobs list|get|runs|run|pause|resume|delete TENANT [JOB_ID]
  staxa scale TENANT SERVICE N [--wait]    run N replicas of a service (no rebuild); --wait until N serve
  staxa backups list|create TENANT [--service S]
                                           volume backups (Postgres dumped, other volumes tarred; encrypted)
  staxa backups restore|delete TENANT BACKUP_ID [--yes]
                                           restore replaces the service's data: asks y/N (or --yes)
  staxa backups schedule TENANT [--cron CRON [--keep N] | --off]
                                           show, set (5-field cron, UTC; keep 1-100) or remove the schedule
  staxa previews get|list|enable|disable TENANT
                                           a preview tenant NAME-pr-N per GitHub pull request (list: the live ones)
  staxa previews set TENANT [--enabled true|false] [--allow-forks true|false] [--ttl-hours N]
                     [KEY=VALUE...] [--remove KEY,...] [--clear-env]
                                           env overrides of previews (given ones replace all; --remove: not in
                                           previews); forks run untrusted code with the env: off by default
  staxa node ls|join-command [--role manager]|drain NODE_ID|activate NODE_ID|rm NODE_ID [--force]
                                           the servers of a swarm cluster (STAXA_ENGINE=swarm); 409 on one host
`;

const BOOLEANS = ["json", "f", "follow", "wait", "replace", "primary", "yes", "y", "clear-env", "off", "force"];

/** What a usage problem shows: the command's own lines, else every client command. */
function usageFor(cmd: string): string {
  return usageOf(CLIENT_USAGE, cmd) ?? CLIENT_USAGE;
}

async function login(out: Out, argv: string[]): Promise<number> {
  const flags = parseArgs(argv, BOOLEANS);
  const url = normaliseUrl(flags.string("url", { required: true })!);
  const key = flags.string("key", { required: true })!;
  flags.bool("json");
  flags.done();
  if (!/^sk_(live|test)_[A-Za-z0-9_]+$/.test(key)) throw new UsageError("--key must be an API key (sk_live_… or sk_test_…)");
  // Check the key before saving it: 401 fails; 403 (a key without account:read) still proves it is valid.
  try {
    await new ApiClient({ url, key }).call("GET", "/account");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
  }
  const path = saveCredentials({ url, key });
  if (out.json) out.write(JSON.stringify({ url, config: path }) + "\n");
  else out.write(`logged in to ${url} (saved to ${path})\n`);
  return 0;
}

/** Runs one client command; returns the exit code. */
export async function runClient(cmd: string, argv: string[], out: Out = stdOut(argv.includes("--json"))): Promise<number> {
  try {
    if (cmd === "login") return await login(out, argv);
    const flags = parseArgs(argv, BOOLEANS);
    flags.bool("json");
    const api = new ApiClient(loadCredentials());
    const sub = flags.positionals[0];
    switch (cmd) {
      case "tenants":
        return await tenantsCommand(api, out, sub, flags);
      case "templates":
        return await templatesCommand(api, out, flags);
      case "deploy":
        return await deployCommand(api, out, flags);
      case "logs":
        return await logsCommand(api, out, flags);
      case "env":
        return await envCommand(api, out, sub, flags);
      case "domains":
        return await domainsCommand(api, out, sub, flags);
      case "jobs":
        return await jobsCommand(api, out, sub, flags);
      case "scale":
        return await scaleCommand(api, out, flags);
      case "previews":
        return await previewsCommand(api, out, sub, flags);
      case "backups":
        return await backupsCommand(api, out, sub, flags);
      case "node":
        return await nodeCommand(api, out, sub, flags);
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof HelpRequested) {
      out.write(usageFor(cmd));
      return 0;
    }
    if (e instanceof UsageError) {
      out.error(`staxa: ${e.message}\n\n${usageFor(cmd)}(staxa --help lists every command)\n`);
      return 2;
    }
    if (e instanceof ApiError) {
      if (out.json)
        out.write(JSON.stringify({ error: { status: e.status, code: e.code, message: e.message, details: e.details } }) + "\n");
      const field = typeof e.details.field === "string" ? ` [field: ${e.details.field}]` : "";
      out.error(`staxa: ${e.message}${field} (${e.code}${e.status ? `, HTTP ${e.status}` : ""})\n`);
      return 1;
    }
    throw e;
  }
}
