// A promise-chain mutex: admin changes of one process run one at a time, in call order.
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    // The chain must survive a failed step, or one error would block every later change.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
