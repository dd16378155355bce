// GitHub App authentication as GitHub does it: an RS256 App JWT, exchanged for installation tokens that are
// cached until shortly before they expire; and the one REST call helper (tokens never logged or echoed).
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../../config.ts";
import { Unprocessable, Upstream } from "../../lib/errors.ts";

/** A token is renewed this long before GitHub's expires_at, so a clone or build never starts with a dying one. */
export const TOKEN_MARGIN_MS = 5 * 60_000;
const TIMEOUT_MS = 15_000;

type AppConfig = Pick<Config, "githubApiUrl" | "githubAppId" | "githubPrivateKeyFile">;

const keys = new Map<string, KeyObject>();
const tokens = new Map<string, { token: string; expiresAt: number }>();
const inflight = new Map<string, Promise<string>>();

function privateKey(config: AppConfig): KeyObject {
  if (!config.githubAppId || !config.githubPrivateKeyFile) {
    throw new Unprocessable(
      "github_not_configured",
      "The GitHub App is not configured on this server (STAXA_GITHUB_APP_ID, STAXA_GITHUB_PRIVATE_KEY_FILE)",
    );
  }
  let key = keys.get(config.githubPrivateKeyFile);
  if (!key) {
    try {
      key = createPrivateKey(readFileSync(config.githubPrivateKeyFile, "utf8"));
    } catch {
      throw new Unprocessable("github_not_configured", "The GitHub App private key file cannot be read as a PEM key");
    }
    keys.set(config.githubPrivateKeyFile, key);
  }
  return key;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString("base64url");

/** The App JWT: iat 60 s in the past (clock drift, as GitHub advises), exp 9 min ahead (GitHub allows 10). */
export function appJwt(config: AppConfig, nowMs = Date.now()): string {
  const key = privateKey(config);
  const now = Math.floor(nowMs / 1000);
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ iat: now - 60, exp: now + 9 * 60, iss: config.githubAppId }));
  const signature = sign("RSA-SHA256", Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(signature)}`;
}

export type GitHubAuth = { jwt: true } | { installationId: number };

export interface GitHubResponse {
  status: number;
  json: any;
}

/** One GitHub REST call with the headers GitHub documents. Throws Upstream when GitHub cannot be reached. */
export async function githubRequest(
  config: AppConfig,
  method: string,
  path: string,
  auth: GitHubAuth,
  body?: unknown,
): Promise<GitHubResponse> {
  const bearer = "jwt" in auth ? appJwt(config) : await installationToken(config, auth.installationId);
  let res: Response;
  try {
    res = await fetch(`${config.githubApiUrl}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        authorization: `Bearer ${bearer}`,
        "user-agent": "staxa-self-hosted",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new Upstream(
      "github",
      `${method} ${path.split("?")[0]} failed: ${(e as Error).name === "TimeoutError" ? "timed out" : "could not connect"}`,
    );
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // A revoked or expired token: forget it so the next call asks for a fresh one.
  if (res.status === 401 && "installationId" in auth) forgetInstallationToken(config, auth.installationId);
  return { status: res.status, json };
}

const cacheKey = (config: AppConfig, installationId: number) => `${config.githubApiUrl}|${config.githubAppId}|${installationId}`;

/** An installation access token: from the cache while it has more than TOKEN_MARGIN_MS left, else freshly issued. */
export async function installationToken(config: AppConfig, installationId: number, nowMs = Date.now()): Promise<string> {
  const key = cacheKey(config, installationId);
  const cached = tokens.get(key);
  if (cached && cached.expiresAt - TOKEN_MARGIN_MS > nowMs) return cached.token;
  let pending = inflight.get(key);
  if (!pending) {
    pending = issueToken(config, installationId).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function issueToken(config: AppConfig, installationId: number): Promise<string> {
  const r = await githubRequest(config, "POST", `/app/installations/${installationId}/access_tokens`, { jwt: true });
  if (r.status !== 201 && r.status !== 200) {
    throw new Upstream(
      "github",
      `issuing an installation token for installation ${installationId} failed (HTTP ${r.status}${r.json?.message ? `: ${String(r.json.message).slice(0, 200)}` : ""})`,
    );
  }
  const token = r.json?.token;
  const expiresAt = Date.parse(r.json?.expires_at ?? "");
  if (typeof token !== "string" || !/^[\x21-\x7e]{1,512}$/.test(token) || !Number.isFinite(expiresAt)) {
    throw new Upstream("github", "GitHub answered the token request without a usable token");
  }
  tokens.set(cacheKey(config, installationId), { token, expiresAt });
  return token;
}

/** Drops a cached token (installation unlinked, or GitHub refused it). */
export function forgetInstallationToken(config: AppConfig, installationId: number): void {
  tokens.delete(cacheKey(config, installationId));
}
