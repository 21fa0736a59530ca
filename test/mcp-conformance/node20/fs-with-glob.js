import fs from 'node:fs';

export * from 'node:fs';
export default fs;

export function globSync() {
  throw new Error(
    'fs.globSync needs Node 22: the conformance suite uses it only for `tier-check`, which Parley does not run',
  );
}
