// Work ordering for the pipeline: one serial lane per tenant (deploys never interleave) and a
// global semaphore bounding concurrent builds (builds are what can starve the machine).

export class DeployQueue {
  private readonly lanes = new Map<string, { tail: Promise<void>; size: number }>();
  private building = 0;
  private readonly waiting: Array<() => void> = [];
  private gate: Promise<void> = Promise.resolve();
  private notStarted = 0;

  /** `onDepth` hears the new depth every time it changes (the composition root points it at the metrics). */
  constructor(
    private readonly buildSlots: number,
    private readonly onDepth: (depth: number) => void = () => {},
  ) {}

  /** Tasks waiting to start (behind their lane or the start-up hold) plus running tasks waiting for a build slot. */
  get depth(): number {
    return this.notStarted + this.waiting.length;
  }

  /** Tasks enqueued from now on start no earlier than `until` settles (start-up reconciliation). */
  holdUntil(until: Promise<unknown>): void {
    this.gate = until.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs `task` after every earlier task of the same lane; a failing task does not block the lane. */
  enqueue(lane: string, task: () => Promise<void>): Promise<void> {
    const entry = this.lanes.get(lane) ?? { tail: this.gate, size: 0 };
    entry.size++;
    this.notStarted++;
    this.onDepth(this.depth);
    const start = () => {
      this.notStarted--;
      this.onDepth(this.depth);
      return task();
    };
    const run = entry.tail
      .then(start)
      .catch(() => undefined)
      .finally(() => {
        entry.size--;
        if (entry.size === 0 && this.lanes.get(lane) === entry) this.lanes.delete(lane);
      });
    entry.tail = run;
    this.lanes.set(lane, entry);
    return run;
  }

  /** Tasks queued or running in a lane. */
  pending(lane: string): number {
    return this.lanes.get(lane)?.size ?? 0;
  }

  /** Resolves when every lane is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.lanes.size) await Promise.all([...this.lanes.values()].map((l) => l.tail));
  }

  /** Runs `fn` holding one of the build slots. */
  async withBuildSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.building >= this.buildSlots) {
      const slot = new Promise<void>((resolve) => this.waiting.push(resolve));
      this.onDepth(this.depth);
      await slot;
    } else this.building++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next(); // the slot passes straight to the next waiter
        this.onDepth(this.depth);
      } else this.building--;
    }
  }

  /** Builds running now (for tests and metrics). */
  get activeBuilds(): number {
    return this.building;
  }
}
