// The conformance suite (pinned in package.json) is built for Node 22: its CLI imports
// `globSync` from `fs`, which Node 20 lacks, and uses it only in `tier-check` (scoring an SDK's
// GitHub repository), a command we never run. This preload resolves that one module's `fs` to
// node:fs plus a `globSync` that says so, so the suite links on Node 20. Nothing else changes.
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
