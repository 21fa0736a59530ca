import fs from 'node:fs';

/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and tells where the server's CPU time
 * went: the hottest functions by self time, and self time grouped by package, which is usually
 * the more useful answer ("a third of the time is in ajv").
 */
export function summariseProfile(file, top = 15) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const selfMicros = selfTimeByNode(profile);
  const total = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);
  const idle = sumWhere(profile, selfMicros, (node) => node.callFrame.functionName === '(idle)');
  const busy = total - idle;
  const byFunction = new Map();
  const byPackage = new Map();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0 || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    add(byFunction, `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`, micros);
    add(byPackage, packageOf(node.callFrame), micros);
  }
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    functions: ranked(byFunction, busy, top),
    packages: ranked(byPackage, busy, top),
  };
}

/** Each sample is attributed to its leaf node; the time between samples is in `timeDeltas`. */
function selfTimeByNode(profile) {
  const micros = new Map();
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    micros.set(nodeId, (micros.get(nodeId) ?? 0) + delta);
  });
  return micros;
}

function sumWhere(profile, selfMicros, predicate) {
  return profile.nodes.filter(predicate).reduce((sum, node) => sum + (selfMicros.get(node.id) ?? 0), 0);
}

function add(map, key, micros) {
  map.set(key, (map.get(key) ?? 0) + micros);
}

function ranked(map, busyMicros, top) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, ms: micros / 1000, share: busyMicros > 0 ? micros / busyMicros : 0 }));
}

function shortUrl(url) {
  if (!url) return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function packageOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0)
    return `parley ${url
      .slice(dist + 1)
      .split('/')
      .slice(0, 3)
      .join('/')}`;
  return url;
}

export function formatProfileSummary(name, summary) {
  const line = ({ name: label, ms, share }) =>
    `  ${(share * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${label}`;
  return [
    `CPU profile of ${name}: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    ' self time by package:',
    ...summary.packages.map(line),
    ' hottest functions (self time):',
    ...summary.functions.map(line),
  ].join('\n');
}
