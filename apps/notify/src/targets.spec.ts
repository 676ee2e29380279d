import { describe, expect, it } from 'vitest';
import { loopback } from './targets.js';

describe('loopback', () => {
  it('is this machine: localhost, 127.0.0.0/8 and ::1, and nothing else', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(loopback(host), host).toBe(true);
    for (const host of ['mail.example.org', '10.0.0.1', '128.0.0.1', '127.0.0.1.example.org', 'localhost.example.org', '::2', '']) expect(loopback(host), host).toBe(false);
  });
});
