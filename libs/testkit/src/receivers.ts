// Real local servers for what labrun tells the outside world, for tests: a webhook receiver (node:http) and an SMTP
// server (smtp-server, the server half of nodemailer's project) that keep what they are sent. Both on port 0 of
// 127.0.0.1; close() them when done.
import http from 'node:http';
import net from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A port on 127.0.0.1 nothing listens on (it was free a moment ago): for a service to take, or to be refused by. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface WebhookRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** The HTTP status it was answered with. */
  answered: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`: a webhook URL is this plus any path. */
  origin: string;
  received: WebhookRequest[];
  close(): Promise<void>;
}

/** A webhook receiver: each POST's JSON body is kept and answered with the status `answer` gives for it (200 by default). */
export async function startWebhookReceiver(options: { answer?: (n: number) => number; onReceive?: () => void } = {}): Promise<WebhookReceiver> {
  const received: WebhookRequest[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const status = options.answer?.(received.length + 1) ?? 200;
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text), answered: status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'no');
      options.onReceive?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO). */
  to: string[];
  parsed: ParsedMail;
}

export interface Mailbox {
  port: number;
  mails: ReceivedMail[];
  /** The user names that logged in. */
  logins: string[];
  close(): Promise<void>;
}

/**
 * An SMTP server that keeps each e-mail, parsed (mailparser). With `login` it wants that user name and password
 * (without TLS); with `startTls` it offers STARTTLS with smtp-server's own self-signed certificate, as a local
 * relay usually does.
 */
export async function startMailbox(options: { login?: { user: string; password: string }; startTls?: boolean; onReceive?: () => void } = {}): Promise<Mailbox> {
  const mails: ReceivedMail[] = [];
  const logins: string[] = [];
  const { login } = options;
  const server = new SMTPServer({
    ...(options.startTls ? {} : { disabledCommands: ['STARTTLS'] }),
    authOptional: login === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (login && auth.username === login.user && auth.password === login.password) {
        logins.push(auth.username);
        return callback(null, { user: auth.username });
      }
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address);
      simpleParser(stream).then(
        (parsed) => {
          mails.push({ to, parsed });
          callback();
          options.onReceive?.();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as net.AddressInfo;
  return { port, mails, logins, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
