import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/**
 * Writes one benchmark's section of docs/performance.md. Only the text between its two markers
 * is replaced, so sections written by other benchmarks (and any prose around them) survive; when
 * the markers are missing, the section is appended at the end of the file.
 */
export function replaceSection(file, name, body) {
  const start = `<!-- ${name}:start (written by \`npm run bench:${name}\`; edits inside are overwritten) -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Performance\n';
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

export function describeMachine() {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // No /proc/cpuinfo: keep os.cpus()'s name.
  }
  return `${os.availableParallelism()} × ${model}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
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
