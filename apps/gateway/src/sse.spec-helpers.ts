// A server-sent events reader for tests: fetch the stream, split it into messages, and wait for the one a test
// expects without racing the gateway (messages already received count).
import { Changes } from '@labrun/testkit';

export interface SseMessage {
  event: string;
  data: any;
}

export interface SseStream {
  readonly status: number;
  readonly contentType: string | null;
  readonly messages: SseMessage[];
  waitFor(predicate: (m: SseMessage) => boolean, what: string, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves once the server has ended the stream. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Open a stream; `headers` go with the request (a token, a cookie). A stream answered with an error reads as no messages. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream', ...headers } });
  const messages: SseMessage[] = [];
  const changes = new Changes();
  let done = false;
  const finished = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (event !== undefined) messages.push({ event, data: JSON.parse(data) });
          changes.notify();
        }
      }
    } catch {
      // aborted by close()
    }
    done = true;
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    messages,
    waitFor(predicate, what, timeoutMs = 10_000) {
      return changes.until(
        () => messages.find(predicate),
        timeoutMs,
        () => {
          const last = messages.slice(-5).map((m) => `${m.event} ${JSON.stringify(m.data).slice(0, 200)}`);
          return `no server-sent event ${what} within ${timeoutMs} ms; last ones:\n${last.join('\n')}`;
        },
      );
    },
    async ended(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the stream ${url} did not end within ${timeoutMs} ms`)), timeoutMs)));
      try {
        if (!done) await Promise.race([finished, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => abort.abort(),
  };
}
