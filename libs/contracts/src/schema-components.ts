// zod schemas as the components of an API document (the AsyncAPI document here, the gateway's OpenAPI
// document): JSON Schema from zod's own z.toJSONSchema, each named schema written once and referred to by
// `$ref: <prefix><name>` wherever it appears. In such a document a `$ref` resolves against the document itself,
// so no schema may keep `$defs` of its own: the recursive schemas zod puts there (the JSON value of a result)
// become components too (`JsonValue`, one for identical ones).
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

const SHARED = '__shared';

export function schemaComponents(named: Record<string, z.ZodType>, prefix: string): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const convert = (io: 'input' | 'output') => z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `${prefix}${id}` }).schemas as Record<string, JsonSchema>;
  const schemas = convert('input');
  // One component serves what is sent and what is received alike only while it reads the same both ways.
  if (JSON.stringify(schemas) !== JSON.stringify(convert('output'))) {
    throw new Error('a schema reads differently as input and as output (a default or a transform): give it a component for each');
  }
  const { [SHARED]: shared, ...components } = schemas;
  const refTo = (def: string) => `"${prefix}${SHARED}#/$defs/${def}"`;
  const hoisted: Record<string, string> = {};
  const renamed: [string, string][] = [];
  for (const [def, schema] of Object.entries((shared?.$defs ?? {}) as Record<string, JsonSchema>)) {
    // Compared with their self-references taken out, so copies of one recursive schema become one component.
    const shape = JSON.stringify(schema).replaceAll(refTo(def), '"SELF"');
    const name = Object.keys(hoisted).find((other) => hoisted[other] === shape) ?? (isJsonValue(schema) ? 'JsonValue' : 'Shared') + (Object.keys(hoisted).length || '');
    hoisted[name] = shape;
    renamed.push([def, name]);
  }
  let text = JSON.stringify({ ...components, ...Object.fromEntries(Object.entries(hoisted).map(([name, shape]) => [name, JSON.parse(shape.replaceAll('"SELF"', `"${prefix}${name}"`))])) });
  for (const [def, name] of renamed) text = text.replaceAll(refTo(def), `"${prefix}${name}"`);
  const all = JSON.parse(text) as Record<string, JsonSchema>;
  if (text.includes('$defs')) throw new Error('a schema kept $defs of its own, which a $ref in the document cannot reach');
  // Each component is in the document's own schema dialect: the `$schema` zod stamps on each adds nothing.
  for (const schema of Object.values(all)) delete schema.$schema;
  return all;
}

/** zod's z.json(): any JSON value. */
const isJsonValue = (schema: JsonSchema) =>
  Array.isArray(schema.anyOf) && ['string', 'number', 'boolean', 'null', 'array', 'object'].every((type) => (schema.anyOf as JsonSchema[]).some((option) => option.type === type));

/** The JSON Schema of a small schema written where it is used (a path parameter): without `$schema`. */
export function inlineSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}
