// What every route module receives: the one context of the appliance (core's Ctx) plus its HTTP-only services.
import type { Ctx } from "../core/context.ts";
import type { JwtVerifier } from "../core/identity/sessions.ts";
import type { RateLimiter } from "./plugins/rate-limit.ts";
import type { StreamSlots } from "./stream-slots.ts";

export interface ApiDeps extends Ctx {
  /** Dashboard JWTs (built-in sessions and OIDC); absent in tests that need none. */
  verifyJwt?: JwtVerifier;
  limiter: RateLimiter;
  /** Long-lived responses (event streams, log follows) each provider holds open. */
  streams: StreamSlots;
}
