// Waiting in tests for something that arrives over time (a log line, an MQTT message, a server-sent event):
// whoever receives data calls notify(); until() looks again after each change and gives up, with a message
// that says what was seen, after a timeout.
export class Changes {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * The first value `probe` returns (it runs now and after every change); `undefined` means not yet. A throw
   * from `probe` rejects at once; after `timeoutMs` the wait rejects with `timeoutMessage()`.
   */
  until<T>(probe: () => T | undefined, timeoutMs: number, timeoutMessage: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = () => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(timeoutMessage()));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}
