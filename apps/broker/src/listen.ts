// The broker's two listeners, and the advice it gives when one of their ports is busy: most often another MQTT
// broker (such as Mosquitto) is already there, and labrun can simply use it.
import { clientHost, urlHost, type Listener } from '@labrun/service';

export interface BrokerListener extends Listener {
  /** The URL scheme and path clients use to reach it. */
  scheme: 'mqtt' | 'ws';
  path?: string | undefined;
}

export function listenerUrl(listener: Pick<BrokerListener, 'scheme' | 'path'>, host: string, port: number): string {
  return `${listener.scheme}://${urlHost(host)}:${port}${listener.path ?? ''}`;
}

function brokerListener(what: string, portVar: 'BROKER_PORT' | 'BROKER_WS_PORT', scheme: 'mqtt' | 'ws', path?: string): BrokerListener {
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
