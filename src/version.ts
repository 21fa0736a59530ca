import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// package.json is one folder up from both src/ and dist/.
export const PARLEY_VERSION: string = (require('../package.json') as { version: string }).version;
