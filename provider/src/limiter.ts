/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in
 * order. Used to bound AWS calls per mount and across the whole provider.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`Limiter needs a positive integer limit, got ${limit}.`);
  }

  /** Runs `task` when a slot is free. */
  public async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter; otherwise free it.
    if (next) next();
    else this.active--;
  }
}

/** Maps `items` through `fn` with every call going through both limiters. */
export async function mapLimited<T, R>(items: readonly T[], limiters: Limiter[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const wrap = (task: () => Promise<R>): (() => Promise<R>) =>
    limiters.reduceRight((inner, limiter) => () => limiter.run(inner), task);
  return Promise.all(items.map((item) => wrap(() => fn(item))()));
}
