/**
 * One embedded server per stoQ home at a time. The embedded default starts a dev server on
 * the home's SQLite file and stops it when its scan is done; a second `stoq scan` on the same
 * home meanwhile would start another server on the same file. The lock serialises them: the
 * second waits until the first has stopped its server. A lock left by a process that died is
 * taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log';
import { InfraError } from './errors';

const POLL_MS = 250;

export interface HomeLock {
  release(): void;
}

export async function lockHome(
  path: string,
  logger: Logger,
  timeoutMs = 30 * 60_000,
): Promise<HomeLock> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;

  while (!tryCreate(path)) {
    if (holderIsGone(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!told) {
      logger.info({ lock: path }, 'waiting for another embedded scan on this stoQ home to finish');
      told = true;
    }
    if (Date.now() > deadline) {
      throw new InfraError(
        `another stoq process holds ${path}; gave up waiting after ${timeoutMs / 1000} s`,
      );
    }
    await sleep(POLL_MS);
  }
  return { release: () => rmSync(path, { force: true }) };
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function holderIsGone(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
