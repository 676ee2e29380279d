import { describe, expect, it } from 'vitest';
import { describeListenError, isLoopback } from './listen.js';

describe('isLoopback', () => {
  it('treats 127.x.x.x, ::1 (in every spelling) and localhost as loopback, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.20', '128.0.0.1', 'broker', 'localhost.example.com']) expect(isLoopback(host), host).toBe(false);
  });
});

describe('describeListenError', () => {
  it("names the busy port, the variable to change, and the service's own advice", () => {
    const busy = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const message = describeListenError(busy, { what: 'HTTP', hostVar: 'HTTP_HOST', portVar: 'HTTP_PORT', whenBusy: () => 'Another gateway may be running there.' }, '127.0.0.1', 8080);
    expect(message).toBe(
      'cannot listen for HTTP on 127.0.0.1:8080: port 8080 on 127.0.0.1 is already in use. Another gateway may be running there. Choose another port with HTTP_PORT=<n> (0 picks a free one).',
    );
  });
});
