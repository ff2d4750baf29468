/** The live progress line of `stoq run`: on a TTY only, on stderr, redrawn in place. */
import type { IngestStats } from './ingest';

export function describeProgress(stats: IngestStats, now = Date.now()): string {
  const seconds = Math.max((now - stats.startedAt) / 1000, 0.001);
  const rate = (stats.completed / seconds).toFixed(1);
  return (
    `submitted ${stats.submitted}  completed ${stats.completed}  failed ${stats.failed}  ` +
    `in flight ${stats.inFlight}  ${rate} scans/s`
  );
}

export interface ProgressLine {
  stop(): void;
}

export function startProgressLine(
  stats: IngestStats,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressLine {
  if (!stream.isTTY) return { stop: () => {} };

  const draw = () => stream.write(`\r\x1b[2K${describeProgress(stats)}`);
  const timer = setInterval(draw, 250);
  timer.unref();
  draw();
  return {
    stop: () => {
      clearInterval(timer);
      draw();
      stream.write('\n');
    },
  };
}
