// Reading the protocol file `labrun run` is given: a protocol document, or a whole create request
// (`{ "protocol": …, "deviceId": … }`, as in examples/*.create.json), checked against the contract.
import { readFile } from 'node:fs/promises';
import { CREATE_LIMITS, CreateRun, ProtocolDocument, decodeJson, validate } from '@labrun/contracts';
import { CliError, EXIT } from './exit-codes.js';

export async function readProtocolFile(path: string): Promise<CreateRun> {
  const fail = (why: string) => new CliError(EXIT.usage, `labrun: ${path} is not a protocol labrun can run:${why.includes('\n') ? '\n' : ' '}${why}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(EXIT.usage, `labrun: cannot read ${path}: ${why}`);
  }
  const json = decodeJson(bytes, CREATE_LIMITS);
  if (!json.ok) throw fail(json.error);
  const isCreateRequest = typeof json.value === 'object' && json.value !== null && 'protocol' in json.value;
  const request = isCreateRequest ? validate(CreateRun, json.value) : validate(ProtocolDocument, json.value);
  if (!request.ok) throw fail(request.error);
  return isCreateRequest ? (request.value as CreateRun) : { protocol: request.value as ProtocolDocument };
}
