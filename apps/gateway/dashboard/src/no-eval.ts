// Imported first by main.ts, before anything that defines a zod schema: the page's content security policy allows
// no eval, so zod must not probe for it (its probe, `Function('')`, is a CSP violation the browser logs as an error
// on every page load) nor compile its parsers; it parses by walking the schema instead.
import { config } from 'zod';

config({ jitless: true });
