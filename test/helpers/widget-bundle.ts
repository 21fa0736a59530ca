import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs scripts/build-widget.js (as `npm run build` does), so dist/widget/widget.js is this tree's widget. */
export async function buildWidgetBundle(): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/build-widget.js'], { cwd: ROOT });
}
