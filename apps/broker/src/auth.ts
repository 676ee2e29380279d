// Authentication and topic ACLs in the broker, when an auth file is configured: Aedes's hooks, answering from
// the users in the file and the role rules of @labrun/auth (libs/auth/src/acl.ts). Every refusal is logged at warn with who and what.
//   - CONNECT without a user name: CONNACK 5 (not authorized); unknown user or wrong password: CONNACK 4.
//   - an address with too many failed logins (LoginLimiter): CONNACK 5 at once, without checking the password.
//     Logins from one address are checked one at a time, so parallel guesses are counted as they go.
//   - a client id that is not the user's (client-ids.ts): CONNACK 2 (identifier rejected), before it can take
//     over the session of the client that has that id.
//   - a last will on a topic the user may not publish to: CONNACK 5, rather than a will that would be dropped.
//   - SUBSCRIBE outside the role: that filter is refused in the SUBACK (0x80), the others are granted.
//   - a service user held to devices (`devices` in the auth file): what it publishes must concern its devices
//     (libs/auth/src/devices.ts), its will included; the broker keeps the device of each run it let a status
//     through for (RunDevices), to judge the run's events, commands and actions. Refused like a topic outside the role.
//   - PUBLISH outside the role: acknowledged as usual and discarded, as Mosquitto does (MQTT-3.3.5-2 allows
//     that or closing the connection). Closing it would not tell the client why either — MQTT 3.1.1 has no
//     negative PUBACK — and clients such as MQTT.js resend an unacknowledged publish on every reconnect, so
//     they would be thrown out again and again.
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { LoginLimiter, type LoginLimits, type Logger } from '@labrun/service';
import {
  devicePublish,
  mayPublish,
  maySubscribe,
  type Role,
  authUsers,
  hashPassword,
  loadAuthFile,
  parsePasswordHash,
  RunDevices,
  statusNote,
  verifyPassword,
  type AuthUser,
  type PasswordHash,
} from '@labrun/auth';
import { clientIdRefusal } from './client-ids.js';
import { discard } from './discard.js';
import { remote, remoteAddress } from './client-log.js';

/** What the CONNECT asked for, seen before Aedes fills in an empty client id. */
interface Connecting {
  clientId: string;
  will: { topic: string; payload: Buffer | string } | undefined;
}

interface Session {
  user: string;
  role: Role;
  /** The hash the client logged in against: a new password in the file ends the session on reload. */
  password: PasswordHash;
  /** The only devices it may act for (a service user with `devices`); undefined: every device. */
  devices: ReadonlySet<string> | undefined;
}

const sameDevices = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined) => (a === undefined || b === undefined ? a === b : a.size === b.size && [...a].every((d) => b.has(d)));
const listed = (devices: ReadonlySet<string> | undefined) => (devices ? [...devices].join(',') : undefined);

const IDENTIFIER_REJECTED = 2;
const NOT_AUTHORIZED = 5;
const BAD_USERNAME_OR_PASSWORD = 4;

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as unknown as AuthenticateError;
}

/** The users of the auth file, reloadable, and the sessions of the clients that logged in as them. */
export class BrokerAuth {
  private users = new Map<string, AuthUser>();
  private readonly sessions = new Map<Client, Session>();
  private readonly connecting = new WeakMap<Client, Connecting>();
  /** The device of each run whose status the broker let through: what a user held to devices is judged against. */
  private readonly runs = new RunDevices();
  /** Whether any user is held to devices: only then do statuses need reading. */
  private tracking = false;
  /** Checked against when the user does not exist, so an unknown name takes as long to refuse as a wrong password. */
  private decoy: Promise<PasswordHash> | undefined;

  private constructor(
    readonly file: string,
    private readonly log: Logger,
    private readonly logins: LoginLimiter,
  ) {}

  /** Load the auth file; an AuthFileError if it is missing or wrong. */
  static async open(file: string, log: Logger, loginLimits?: LoginLimits): Promise<BrokerAuth> {
    const auth = new BrokerAuth(file, log, new LoginLimiter(loginLimits));
    auth.setUsers(authUsers(await loadAuthFile(file)));
    return auth;
  }

  get userCount(): number {
    return this.users.size;
  }

  /**
   * Read the file again. Clients whose user is gone, or whose role or password changed, are disconnected (they
   * log in again under the new rules). A bad file throws and changes nothing.
   */
  async reload(): Promise<{ users: number; disconnected: number }> {
    const users = authUsers(await loadAuthFile(this.file));
    this.setUsers(users);
    let disconnected = 0;
    for (const [client, session] of this.sessions) {
      const now = users.get(session.user);
      if (now && now.role === session.role && now.password.hash.equals(session.password.hash) && sameDevices(now.devices, session.devices)) continue;
      this.sessions.delete(client);
      this.log.info('disconnecting a client whose user changed in the auth file', { clientId: client.id, user: session.user });
      client.close();
      disconnected++;
    }
    return { users: users.size, disconnected };
  }

  private setUsers(users: Map<string, AuthUser>): void {
    this.users = users;
    this.tracking = [...users.values()].some((user) => user.devices !== undefined);
  }

  /** Attach to a broker's options: authenticate, preConnect (to see the will), authorizePublish, authorizeSubscribe. */
  hooks(): Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
    return {
      preConnect: (client, packet, callback) => {
        this.connecting.set(client, { clientId: packet.clientId, will: packet.will ? { topic: packet.will.topic, payload: packet.will.payload } : undefined });
        callback(null, true);
      },
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (error: AuthenticateError) => done(error, false),
        );
      },
      authorizePublish: (client, packet, callback) => {
        // `client` is null only for the will of a client of another broker in a cluster: nobody to check it against.
        if (!client) return callback(new Error(`not authorized: a last will on ${packet.topic} from a client that is not connected here`));
        const session = this.sessions.get(client);
        if (session && mayPublish(session.role, packet.topic)) {
          if (!session.devices) {
            if (this.tracking) this.noteStatus(packet.topic, packet.payload);
            return callback(null);
          }
          const verdict = devicePublish(session.devices, packet.topic, packet.payload, this.runs);
          if (verdict.allowed) {
            if (verdict.note) this.runs.note(verdict.note);
            return callback(null);
          }
          this.log.warn('refused a publish', { clientId: client.id, user: session.user, role: session.role, devices: listed(session.devices), topic: packet.topic, why: verdict.why });
        } else {
          this.log.warn('refused a publish', { clientId: client.id, user: session?.user, role: session?.role, topic: packet.topic });
        }
        // Acknowledged as usual, delivered to nobody, never retained: nothing of it is kept.
        discard(packet);
        callback(null);
      },
      authorizeSubscribe: (client, subscription, callback) => {
        const session = this.sessions.get(client);
        if (session && maySubscribe(session.role, subscription.topic)) return callback(null, subscription);
        this.log.warn('refused a subscription', { clientId: client.id, user: session?.user, role: session?.role, filter: subscription.topic });
        callback(null, null); // SUBACK 0x80 for this filter; the client stays connected
      },
    };
  }

  /** A status let through from a user that may act for every device: the run's device, for the others' checks. */
  private noteStatus(topic: string, payload: Buffer | string): void {
    const note = statusNote(topic, payload);
    if (note) this.runs.note(note);
  }

  /**
   * Learn the devices of the runs whose statuses the broker kept retained (a broker on Redis restarting): so the
   * engines' own runs are known before they publish again. Resolves with how many runs it learned.
   */
  async learnRetainedStatuses(persistence: { createRetainedStream(pattern: string): AsyncIterable<{ topic: string; payload: Buffer | string }> }): Promise<number> {
    const before = this.runs.size;
    for await (const packet of persistence.createRetainedStream('run/+/status')) this.noteStatus(packet.topic, packet.payload);
    return this.runs.size - before;
  }

  /** Forget a client that has gone. */
  forget(client: Client): void {
    this.sessions.delete(client);
    this.connecting.delete(client);
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const from = remote(client);
    const address = remoteAddress(client);
    if (username === undefined || username === '') {
      this.log.warn('refused a client without a user name', { clientId: client.id, from });
      throw refusal('not authorized: this broker needs a user name and password', NOT_AUTHORIZED);
    }
    const user = this.users.get(username);
    const given = password ?? Buffer.alloc(0);
    const login = await this.logins.attempt(address, async () => (user ? verifyPassword(given, user.password) : verifyPassword(given, await this.decoyHash()).then(() => false)));
    if (!login.checked) {
      this.log.debug('refused a client from an address with too many failed logins', { clientId: client.id, user: username, from, retryAfterSeconds: login.retryAfterSeconds });
      throw refusal(`not authorized: too many failed logins from ${address}; try again in ${login.retryAfterSeconds} s`, NOT_AUTHORIZED);
    }
    if (!login.passed || !user) {
      this.log.warn(user ? 'refused a client: wrong password' : 'refused a client: no such user', { clientId: client.id, user: username, from });
      if (login.passed === false && login.blocked) this.logBlocked(address, login.retryAfterSeconds);
      throw refusal('bad user name or password', BAD_USERNAME_OR_PASSWORD);
    }
    const connect = this.connecting.get(client);
    const idRefused = clientIdRefusal(username, user.role, connect?.clientId ?? client.id);
    if (idRefused !== undefined) {
      // Refused before Aedes registers the client, so the client that owns this id keeps its connection and session.
      this.log.warn('refused a client id the user does not own', { clientId: client.id, user: username, role: user.role, from, why: idRefused });
      throw refusal(`identifier rejected: ${idRefused}`, IDENTIFIER_REJECTED);
    }
    const will = connect?.will;
    if (will && !mayPublish(user.role, will.topic)) {
      this.log.warn('refused a client whose last will it may not publish', { clientId: client.id, user: username, role: user.role, will: will.topic, from });
      throw refusal(`not authorized: user ${username} (${user.role}) may not publish its last will to ${will.topic}`, NOT_AUTHORIZED);
    }
    // A will is judged as it stands when the client connects (it teaches the broker nothing).
    const willVerdict = will && user.devices ? devicePublish(user.devices, will.topic, will.payload, this.runs) : undefined;
    if (willVerdict && !willVerdict.allowed) {
      this.log.warn('refused a client whose last will it may not publish', {
        clientId: client.id,
        user: username,
        role: user.role,
        devices: listed(user.devices),
        will: will!.topic,
        why: willVerdict.why,
        from,
      });
      throw refusal(`not authorized: user ${username} may not publish its last will to ${will!.topic}: ${willVerdict.why}`, NOT_AUTHORIZED);
    }
    if (client.closed) return; // gone while its password was checked: Aedes drops it, nothing to remember
    this.sessions.set(client, { user: username, role: user.role, password: user.password, devices: user.devices });
    this.log.debug('client logged in', { clientId: client.id, user: username, role: user.role, devices: listed(user.devices), from });
  }

  private logBlocked(address: string | undefined, retryAfterSeconds: number): void {
    const { maxFailures, windowSeconds } = this.logins.limits;
    this.log.warn(`too many failed logins: refusing every login from ${address} for ${retryAfterSeconds} s, without checking passwords`, {
      from: address,
      failures: maxFailures,
      withinSeconds: windowSeconds,
    });
  }

  private decoyHash(): Promise<PasswordHash> {
    this.decoy ??= hashPassword('decoy password, never used').then((hash) => parsePasswordHash(hash) as PasswordHash);
    return this.decoy;
  }
}
