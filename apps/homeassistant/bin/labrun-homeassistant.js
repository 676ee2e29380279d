#!/usr/bin/env node
// The `labrun-homeassistant` command as npm links it: the build's dist/main.js (see scripts/run-built.mjs).
import { runBuilt } from '../../../scripts/run-built.mjs';

await runBuilt('labrun-homeassistant', new URL('../dist/main.js', import.meta.url));
