// @labrun/testkit — start real labrun processes and talk to them as any MQTT client would.
export * from './processes.js';
export * from './mqtt-client.js';
export * from './external.js';
export * from './fixtures.js';
export * from './changes.js';
export * from './fake-terminal.js';
export * from './lab.js';
export * from './home-assistant.js';
export * from './promtool.js';
export * from './receivers.js';
export * from './tcp-proxy.js';
export * from './disk.js';
