// Streams build output into the store in batches (one UPDATE per flush, not per line).
import type { Db } from "../../store/db.ts";
import * as deployments from "../../store/deployments.ts";

export class BuildLogSink {
  private buf: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: Db,
    private readonly deploymentId: string,
    private readonly flushMs = 250,
  ) {}

  line = (line: string): void => {
    this.buf.push(line.endsWith("\n") ? line : line + "\n");
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  };

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buf.length) return;
    const chunk = this.buf.join("");
    this.buf = [];
    try {
      deployments.appendLog(this.db, this.deploymentId, chunk);
    } catch {
      // the deployment row is gone (tenant deleted): nothing left to log to
    }
  }
}
