const SUITE = '/node_modules/@modelcontextprotocol/conformance/';
const FS_WITH_GLOB = new URL('./fs-with-glob.js', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL?.includes(SUITE)) {
    return { url: FS_WITH_GLOB, shortCircuit: true };
  }
  return next(specifier, context);
}
