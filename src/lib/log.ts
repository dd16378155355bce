// Structured JSON logs on stderr. Never pass secrets in fields: `redact` masks the usual suspects anyway.
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[_-]?key|private|credential/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** False when lines of `level` are dropped, so a hot path can skip building them (absent: assume true). */
  enabled?(level: Level): boolean;
}

/** Masks values of secret-looking keys, recursively. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = "****";
    else if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Error))
      out[k] = redact(v as Record<string, unknown>);
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = v;
  }
  return out;
}

// stderr is written once per event-loop turn, not once per line: under load the request log was one
// synchronous write per request. Errors flush at once (and everything flushes on exit) so nothing
// that explains a crash is left in the buffer.
let pending: string[] = [];
let scheduled = false;
function flushStderr(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.join("\n") + "\n";
  pending = [];
  process.stderr.write(text);
}
process.on("exit", flushStderr);

/** The default sink: lines buffered and written together at the end of the current event-loop turn. */
export function bufferedStderr(line: string, urgent = false): void {
  pending.push(line);
  if (urgent || pending.length >= 1000) return flushStderr();
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushStderr);
  }
}

/** A logger writing one JSON object per line at or above `level`. */
export function createLogger(level: Level = "info", write?: (line: string) => void): Logger {
  const min = ORDER[level];
  const emit =
    (lvl: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < min) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...redact(fields) });
      if (write) write(line);
      else bufferedStderr(line, lvl === "error");
    };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    enabled: (lvl: Level) => ORDER[lvl] >= min,
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
