// Messages are handled in slices, a turn of the event loop each, instead of all at once. A burst (1,000 runs
// resumed together arrive in one TCP read, and mqtt.js hands them over in one go) then becomes a pipeline: the
// first slice's events are journaled and published, and the broker routes them, while the engine works on the
// next slice — two cores busy instead of one, then the other.
export class Inbox<T> {
  private queue: T[] = [];
  private head = 0;
  private scheduled = false;

  constructor(
    private readonly handle: (item: T) => void,
    /** An item whose handler threw: the others are still handled. */
    private readonly onError: (error: unknown, item: T) => void,
    /** Items handled per turn of the event loop. */
    private readonly slice = 64,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Items waiting. */
  get size(): number {
    return this.queue.length - this.head;
  }

  private drain(): void {
    const end = Math.min(this.queue.length, this.head + this.slice);
    while (this.head < end) {
      const item = this.queue[this.head++]!;
      try {
        this.handle(item);
      } catch (error) {
        this.onError(error, item);
      }
    }
    if (this.head < this.queue.length) {
      setImmediate(() => this.drain());
      return;
    }
    this.queue = [];
    this.head = 0;
    this.scheduled = false;
  }
}
