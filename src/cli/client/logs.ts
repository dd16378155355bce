// `staxa logs <tenant> [-f] [--lines N]`: container logs, streamed as they come with -f.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import type { Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

export async function logsCommand(api: ApiClient, out: Out, flags: Flags): Promise<number> {
  const follow = flags.bool("f") || flags.bool("follow");
  const lines = flags.string("lines") ?? "200";
  if (!/^\d{1,6}$/.test(lines)) throw new UsageError("--lines must be a number");
  const id = await resolveTenant(api, flags.positionals[0]);
  flags.done();
  for await (const chunk of api.text(`/tenants/${id}/logs?lines=${lines}${follow ? "&follow=true" : ""}`)) out.write(chunk);
  return 0;
}
