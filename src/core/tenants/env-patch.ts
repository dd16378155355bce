// PATCH /tenants/{id}/env as data: {"set": {KEY: value}, "unset": [KEY]} parsed, then applied to the stored env.
import { Invalid } from "../../lib/errors.ts";
import { assertEnvName, validateEnv } from "../env-vars.ts";

export interface EnvPatch {
  set: Record<string, string>;
  unset: string[];
}

const FIELD = "env";

/** The patch, every name and value checked; a bad one is named as env.set.<KEY> or env.unset.<KEY>. */
export function envPatch(body: unknown): EnvPatch {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new Invalid(FIELD, 'Body must be {"set": {KEY: "value"}, "unset": ["KEY"]}');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => k !== "set" && k !== "unset");
  if (unknown !== undefined)
    throw new Invalid(
      `${FIELD}.${unknown}`,
      `Unknown field ${JSON.stringify(unknown)}: a patch has "set" (an object of values) and "unset" (a list of names)`,
    );
  const set = b.set === undefined ? {} : b.set;
  if (set === null || typeof set !== "object" || Array.isArray(set))
    throw new Invalid(`${FIELD}.set`, `${FIELD}.set must be an object of string values`);
  for (const k of Object.keys(set)) assertEnvName(k, `${FIELD}.set.${k}`);
  const values = validateEnv(set, `${FIELD}.set`); // values: strings, no NUL, sizes (named env.set.<KEY>)
  const unset = b.unset === undefined ? [] : b.unset;
  if (!Array.isArray(unset)) throw new Invalid(`${FIELD}.unset`, `${FIELD}.unset must be a list of variable names`);
  for (const [i, k] of unset.entries()) {
    if (typeof k !== "string") throw new Invalid(`${FIELD}.unset[${i}]`, `${FIELD}.unset[${i}] must be a variable name`);
    assertEnvName(k, `${FIELD}.unset.${k}`);
    if (k in values) throw new Invalid(`${FIELD}.unset.${k}`, `${k} is both set and unset`);
  }
  if (Object.keys(values).length === 0 && unset.length === 0)
    throw new Invalid(FIELD, 'Nothing to change: give "set" and/or "unset"');
  return { set: values, unset: [...new Set(unset as string[])] };
}

/** The env after the patch; `changed` is false when every value was already so (nothing to redeploy). */
export function applyEnvPatch(
  current: Record<string, string>,
  patch: EnvPatch,
): { env: Record<string, string>; changed: boolean } {
  const env = { ...current };
  let changed = false;
  for (const [k, v] of Object.entries(patch.set)) {
    if (env[k] !== v) changed = true;
    env[k] = v;
  }
  for (const k of patch.unset) {
    if (k in env) changed = true;
    delete env[k];
  }
  return { env, changed };
}
