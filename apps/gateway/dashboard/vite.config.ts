// The dashboard's build: vite bundles dashboard/src (TypeScript, importing @labrun/engine/commands from its source
// so the page describes commands exactly as the engine does) into ../public/, which the gateway serves
// (src/dashboard-files.ts). The file names stay fixed, `/dashboard.js` and `/dashboard.css`, as the gateway's routes
// and content security policy expect them. `nx build @labrun/gateway` runs it (the build-dashboard target).
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Workspace packages resolve to their TypeScript sources, as in the tests: no build of the libs needed first.
  resolve: { conditions: ['@labrun/source', ...defaultClientConditions] },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../public/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: '',
    target: 'es2022',
    // One script and no dynamic imports: nothing to preload, so no preload helper in the bundle.
    modulePreload: false,
    rolldownOptions: {
      // The page's one stylesheet is dashboard.css, whatever vite would name it after the page.
      output: { entryFileNames: 'dashboard.js', chunkFileNames: 'dashboard-[name].js', assetFileNames: (asset) => (asset.names.some((n) => n.endsWith('.css')) ? 'dashboard.css' : '[name][extname]') },
    },
  },
});
