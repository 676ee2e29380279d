#!/usr/bin/env node
// The `labrun-hardware` command as npm links it: the build's dist/main.js (see scripts/run-built.mjs).
import { runBuilt } from '../../../scripts/run-built.mjs';

await runBuilt('labrun-hardware', new URL('../dist/main.js', import.meta.url));
