// The broker's listeners (MQTT and MQTT over WebSocket, each also over TLS), and the advice it gives when one of
// their ports is busy: most often another MQTT broker (such as Mosquitto) is already there, and labrun can use it.
import { clientHost, urlHost, type Listener } from '@labrun/service';

export type Scheme = 'mqtt' | 'ws' | 'mqtts' | 'wss';

export interface BrokerListener extends Listener {
  /** The URL scheme and path clients use to reach it. */
  scheme: Scheme;
  path?: string | undefined;
}

export function listenerUrl(listener: Pick<BrokerListener, 'scheme' | 'path'>, host: string, port: number): string {
  return `${listener.scheme}://${urlHost(host)}:${port}${listener.path ?? ''}`;
}

type PortVar = 'BROKER_PORT' | 'BROKER_WS_PORT' | 'BROKER_TLS_PORT' | 'BROKER_WSS_PORT';

function brokerListener(what: string, portVar: PortVar, scheme: Scheme, path?: string): BrokerListener {
  return {
    what,
    hostVar: 'BROKER_HOST',
    portVar,
    scheme,
    path,
    whenBusy: (host, port) =>
      `Another MQTT broker (such as Mosquitto) may be running there. To use that broker instead, start labrun with ` +
      `MQTT_URL=${listenerUrl({ scheme, path }, clientHost(host), port)} npm start; or run this broker on another port.`,
  };
}

export const MQTT = brokerListener('MQTT', 'BROKER_PORT', 'mqtt');
export const MQTT_WS = brokerListener('MQTT over WebSocket', 'BROKER_WS_PORT', 'ws', '/mqtt');
export const MQTTS = brokerListener('MQTT over TLS', 'BROKER_TLS_PORT', 'mqtts');
export const MQTT_WSS = brokerListener('MQTT over secure WebSocket', 'BROKER_WSS_PORT', 'wss', '/mqtt');

/** Prometheus metrics (HTTP), when BROKER_METRICS_PORT is set. */
export const METRICS: Listener = { what: 'metrics (HTTP)', hostVar: 'BROKER_METRICS_HOST', portVar: 'BROKER_METRICS_PORT' };
