// Whether the OpenAPI document and the router's table describe the same API: every route and method the gateway
// serves has a path and operation in the document with the same access rules, and every operation in the document
// is served. The tests run it on the real table, so a new route cannot go undocumented.
import type { Access } from './http-auth.js';

/** A route as http-api.ts's table holds it. */
export interface RouteLike {
  pattern: RegExp;
  methods: Record<string, { access: Access; cookie?: boolean }>;
}

interface DocumentLike {
  paths: Record<string, Record<string, { 'x-labrun-access'?: string; security?: Record<string, unknown>[] }>>;
}

/** A concrete path for a path template: each `{parameter}` filled with a sample value. */
const samplePath = (template: string) => template.replace(/\{([^}]+)\}/g, (_, name: string) => `sample-${name}`);

/** What the document and the routes disagree on, one sentence each; empty when they agree. */
export function routeProblems(routes: readonly RouteLike[], document: DocumentLike): string[] {
  const problems: string[] = [];
  const operations = Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ template, path: samplePath(template), method: method.toUpperCase(), operation })),
  );
  for (const { pattern, methods } of routes) {
    for (const [method, endpoint] of Object.entries(methods)) {
      const described = operations.filter((o) => o.method === method && pattern.test(o.path));
      if (described.length === 0) {
        problems.push(`${method} ${pattern} is served, but the OpenAPI document has no path for it`);
        continue;
      }
      for (const { template, operation } of described) {
        if (operation['x-labrun-access'] !== endpoint.access) {
          problems.push(`${method} ${template}: the OpenAPI document says access ${operation['x-labrun-access']}, the route ${endpoint.access}`);
        }
        const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();
        const expected = endpoint.access === 'public' ? [] : endpoint.cookie ? ['bearer', 'session'] : ['bearer'];
        if (JSON.stringify(schemes) !== JSON.stringify(expected)) {
          problems.push(`${method} ${template}: the OpenAPI document gives security ${schemes.join(', ') || 'none'}, the route takes ${expected.join(', ') || 'none'}`);
        }
      }
    }
  }
  for (const { template, path, method } of operations) {
    if (!routes.some(({ pattern, methods }) => pattern.test(path) && methods[method])) {
      problems.push(`${method} ${template} is in the OpenAPI document, but the gateway does not serve it`);
    }
  }
  return problems;
}
