// Finding the protocol in a loaded protocol file: its default export, as `defineProtocol` made it.
import { isProtocolDefinition, type ProtocolDefinition } from './define.js';

const HOW = 'export default defineProtocol({ name: "…" }, async (ctx) => { … })';

/**
 * The protocol a protocol file exports by default. `namespace` is what `import()` gave for the file; a file
 * loaded as CommonJS (a .ts file outside an ESM package) shows its `export default` one level deeper, as
 * `default.default`, and is accepted too. Throws, naming `file`, when there is no protocol to be found.
 */
export function protocolFromModule(namespace: unknown, file: string): ProtocolDefinition {
  const exported = (namespace as { default?: unknown } | null)?.default;
  if (isProtocolDefinition(exported)) return exported;
  // An ES module compiled to CommonJS (as tsx does outside ESM packages) is marked __esModule; its
  // `export default` is the `default` of its exports.
  const compiled = typeof exported === 'object' && exported !== null && (exported as { __esModule?: unknown }).__esModule === true;
  const value = compiled ? (exported as { default?: unknown }).default : exported;
  if (isProtocolDefinition(value)) return value;
  const why = value === undefined ? 'it has no default export' : 'its default export is not a protocol made by defineProtocol';
  throw new Error(`${file} does not export a protocol: ${why}. Write ${HOW}, importing defineProtocol from "@labrun/protocol".`);
}
