import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { cpuTimeMs } from './children.js';

/**
 * The whole machine's CPU over a window, from /proc/stat, split by who used it. A figure per
 * request says how dear a request is; this says whether the run was short of CPU at all: a
 * one-process run that left a core idle had room for more processes, one that kept both cores
 * busy did not. Roles are lists of pids (read at the window's start and again at its end, so a
 * process that started inside the window is counted from zero); what no role claims is "other"
 * (kernel threads, other users of the machine).
 */

/** Busy and total clock ticks of all cores so far (100 Hz). Idle and I/O wait count as not busy. */
export function machineTicks() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Pids of the processes named exactly `name` (pgrep -x), [] when there are none. */
export function pidsNamed(name) {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** `pid` and its direct children. */
export function withChildren(pid) {
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    return [pid, ...children.map(Number)];
  } catch {
    return [pid];
  }
}

function roleTimes(roles) {
  return Object.fromEntries(
    Object.entries(roles).map(([name, pids]) => [
      name,
      new Map(
        pids()
          .map((pid) => [pid, cpuTimeMs(pid)])
          .filter(([, ms]) => ms !== null),
      ),
    ]),
  );
}

/**
 * Starts a window; the returned function ends it and returns the machine's busy share of all its
 * cores (0..1), the cores, and each role's CPU as a share of the window's wall time × cores.
 */
export function startMachineWindow(roles) {
  const startTicks = machineTicks();
  const startTimes = roleTimes(roles);
  return () => {
    const endTicks = machineTicks();
    const endTimes = roleTimes(roles);
    if (!startTicks || !endTicks || endTicks.total <= startTicks.total) return null;
    const totalMs = (endTicks.total - startTicks.total) * 10;
    const busyMs = (endTicks.busy - startTicks.busy) * 10;
    const shares = {};
    let claimedMs = 0;
    for (const [name, times] of Object.entries(endTimes)) {
      let used = 0;
      for (const [pid, ms] of times) used += ms - (startTimes[name].get(pid) ?? 0);
      claimedMs += used;
      shares[name] = used / totalMs;
    }
    shares.other = Math.max(0, busyMs - claimedMs) / totalMs;
    return { busyShare: busyMs / totalMs, idleShare: 1 - busyMs / totalMs, shares, totalMs };
  };
}
