import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/**
 * Sections of docs/performance.md, each written by one benchmark, and what every section states:
 * the machine and the code measured.
 */

const NEW_DOCUMENT = [
  '# Performance',
  '',
  'Benchmarks of the Parley server. Each section below is written by the benchmark named in it;',
  'run it again to refresh the figures.',
  '',
].join('\n');

/**
 * Writes one benchmark's section. Only the text between its two markers is replaced, so sections
 * written by other benchmarks (and any prose around them) survive; when the markers are missing,
 * the section is appended at the end of the file. `command` is the npm command named in the start
 * marker (default `npm run bench:<name>`).
 */
export function replaceSection({ file, name, body, command = `npm run bench:${name}` }) {
  const start = `<!-- ${name}:start (written by \`${command}\`; edits inside are overwritten) -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : NEW_DOCUMENT;
  // The start marker may carry any note after its name; the end marker is exact.
  const pattern = new RegExp(`<!-- ${escape(name)}:start(?: [^>]*)? -->[\\s\\S]*?<!-- ${escape(name)}:end -->`);
  const next = pattern.test(current)
    ? current.replace(pattern, () => section)
    : `${current.replace(/\s*$/, '')}\n\n${section}\n`;
  // Written to a temporary file and renamed, so a reader never sees half a document.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, next);
  fs.renameSync(temporary, file);
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The machine, as fields (kept in the raw JSON results). */
export function describeMachine() {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // No /proc/cpuinfo: keep os.cpus()'s name.
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: model,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

/** The machine in one line, as the sections print it. */
export function machineSummary(machine = describeMachine()) {
  return `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB.toFixed(1)} GiB, ${machine.platform}, Node ${machine.node}`;
}

/** The commit measured, and whether src/ differed from it (dist/ is built from the working tree). */
export function describeCode(root) {
  try {
    const git = (...args) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') === '' ? commit : `${commit} with uncommitted changes under src/`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/**
 * What a benchmark runner writes to bench/results/*-latest.json and renders from: when and how
 * long it ran, on what machine and code, the load around it, and its results.
 */
export function runRecord({ started, loadBefore, root, results }) {
  return {
    startedAt: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: machineSummary(),
    code: describeCode(root),
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
    results,
  };
}
