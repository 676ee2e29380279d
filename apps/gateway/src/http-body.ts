// Reading a request's JSON body: JSON only (which also makes a cross-site form unable to post here without a
// CORS preflight the gateway never grants), within a size limit, parsed by the contract's hardened decoder.
import type { IncomingMessage } from 'node:http';
import { decodeJson, type DecodeLimits } from '@labrun/contracts';
import { HttpError } from './http-error.js';

const isJson = (contentType: string) => /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType.trim());

const tooLarge = (limits: DecodeLimits) => new HttpError(413, 'payload-too-large', `the body is larger than ${limits.maxBytes} bytes, the limit for this endpoint`, { connection: 'close' });

export async function readJsonBody(req: IncomingMessage, limits: DecodeLimits): Promise<unknown> {
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !isJson(contentType)) {
    throw new HttpError(415, 'unsupported-media-type', `the body must be JSON, sent with content-type: application/json (it was ${contentType})`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limits.maxBytes) throw tooLarge(limits);
    chunks.push(chunk);
  }
  if (size === 0) throw new HttpError(400, 'invalid-json', 'the body is empty; send a JSON document');
  const json = decodeJson(Buffer.concat(chunks), limits);
  if (!json.ok) throw new HttpError(400, 'invalid-json', `the body ${json.error.replace(/^payload /, '')}`);
  return json.value;
}
