// GrblConnection while its controller is away: what it answers and what its state says.
import { describe, expect, it } from 'vitest';
import { GrblConnection } from './grbl-connection.js';

describe('GrblConnection without a controller', () => {
  const away = () =>
    new GrblConnection({
      target: '/dev/ttyUSB9',
      open: () => Promise.reject(new Error('no such port')),
      controller: {
        outputs: new Map([
          ['pump', 'spindle'],
          ['valve', 'flood'],
        ] as const),
      },
    });

  it('says every output it offers is off, and answers an output it does not offer with unknown-output', async () => {
    const connection = away();
    expect(connection.state()).toMatchObject({ connected: false, outputs: { pump: 0, valve: 0 } });
    await expect(connection.setOutput('heater', 1)).rejects.toMatchObject({ code: 'unknown-output', message: 'there is no output "heater" on this device: its outputs are pump, valve' });
    await expect(connection.setOutput('pump', 1)).rejects.toMatchObject({ code: 'disconnected', message: expect.stringContaining('not connected to GRBL on /dev/ttyUSB9') });
  });
});
