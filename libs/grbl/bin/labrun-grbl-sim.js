#!/usr/bin/env node
// The `labrun-grbl-sim` command as npm links it: the build's dist/simulator/cli.js (see scripts/run-built.mjs).
import { runBuilt } from '../../../scripts/run-built.mjs';

await runBuilt('labrun-grbl-sim', new URL('../dist/simulator/cli.js', import.meta.url));
