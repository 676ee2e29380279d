// Reading the protocol file `labrun run` is given: a protocol document or a whole create request
// (`{ "protocol": …, "deviceId": … }`, as in examples/*.create.json) in JSON, or a protocol written in
// TypeScript or JavaScript with @labrun/protocol, recorded into a document here. Either way it is checked
// against the contract before anything is sent.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CREATE_LIMITS, CreateRun, ProtocolDocument, decodeJson, validate } from '@labrun/contracts';
import { CliError, EXIT } from './exit-codes.js';
import { MODULE_EXTENSIONS, ProtocolModuleError, loadProtocolModule } from './protocol-module.js';

export async function readProtocolFile(file: string): Promise<CreateRun> {
  const fail = (why: string) => new CliError(EXIT.usage, `labrun: ${file} is not a protocol labrun can run:${why.includes('\n') ? '\n' : ' '}${why}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(EXIT.usage, `labrun: cannot read ${file}: ${why}`);
  }
  if (MODULE_EXTENSIONS.includes(path.extname(file))) {
    try {
      return { protocol: await loadProtocolModule(file) };
    } catch (error) {
      if (error instanceof ProtocolModuleError) throw new CliError(EXIT.usage, `labrun: ${error.message}`);
      throw error;
    }
  }
  const json = decodeJson(bytes, CREATE_LIMITS);
  if (!json.ok) throw fail(json.error);
  const isCreateRequest = typeof json.value === 'object' && json.value !== null && 'protocol' in json.value;
  const request = isCreateRequest ? validate(CreateRun, json.value) : validate(ProtocolDocument, json.value);
  if (!request.ok) throw fail(request.error);
  return isCreateRequest ? (request.value as CreateRun) : { protocol: request.value as ProtocolDocument };
}
