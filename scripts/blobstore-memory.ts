/**
 * Measures how much memory the filesystem blob store needs to take in a large stream:
 * it writes a generated stream (1 GiB by default) into a temporary store while sampling
 * the process RSS, reads the blob back to check its digest, prints JSON figures and
 * exits non-zero when RSS grew by more than 256 MiB or the content came back wrong.
 *
 * Usage (compiled, since ts-node is not a dependency):
 *   npx tsc -p tsconfig.build.json && node dist/scripts/blobstore-memory.js [--mib 1024]
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemBlobStore } from '../src/blobstore/filesystem';

const MIB = 1024 * 1024;
const RSS_GROWTH_LIMIT_MIB = 256;
const SAMPLE_INTERVAL_MS = 50;

/**
 * `chunks` chunks of 1 MiB, each made fresh when the consumer asks for it: a random
 * 1 MiB block stamped with the chunk number, so no two chunks are alike and nothing but
 * the block is held.
 */
function generatedStream(block: Buffer, chunks: number): Readable {
  let index = 0;
  return new Readable({
    read() {
      if (index === chunks) {
        this.push(null);
        return;
      }

      const chunk = Buffer.allocUnsafe(block.length);
      block.copy(chunk);
      chunk.writeUInt32BE(index, 0);
      index += 1;
      this.push(chunk);
    },
  });
}

/** Samples RSS until stopped; `peak` is the highest value seen, including a final sample. */
function sampleRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, SAMPLE_INTERVAL_MS);

  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function digest(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function toMiB(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}

function parseMiB(argv: string[]): number {
  const at = argv.indexOf('--mib');
  const mib = at === -1 ? 1024 : Number(argv[at + 1]);
  if (!Number.isInteger(mib) || mib <= 0) throw new Error('--mib expects a positive integer');
  return mib;
}

async function measure(root: string, chunks: number): Promise<boolean> {
  const store = new FilesystemBlobStore(root);
  const block = randomBytes(MIB);

  const baseline = process.memoryUsage().rss;
  const writeSampler = sampleRss();
  const started = process.hrtime.bigint();
  const ref = await store.putStream(generatedStream(block, chunks));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = writeSampler.stop();

  const readSampler = sampleRss();
  const readStarted = process.hrtime.bigint();
  const storedDigest = await digest(await store.getStream(ref.sha256));
  const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
  const readPeak = readSampler.stop();
  const expectedDigest = await digest(generatedStream(block, chunks));
  const tempLeftovers = await fs.readdir(path.join(root, 'tmp'));

  const growthMiB = toMiB(peak - baseline);
  const verified =
    ref.size === chunks * MIB &&
    ref.sha256 === expectedDigest &&
    storedDigest === expectedDigest &&
    tempLeftovers.length === 0;
  const report = {
    bytesWritten: ref.size,
    seconds: Math.round(seconds * 100) / 100,
    mibPerSecond: Math.round(ref.size / MIB / seconds),
    baselineRssMiB: toMiB(baseline),
    peakRssMiB: toMiB(peak),
    peakGrowthMiB: growthMiB,
    growthLimitMiB: RSS_GROWTH_LIMIT_MIB,
    readBack: {
      seconds: Math.round(readSeconds * 100) / 100,
      mibPerSecond: Math.round(ref.size / MIB / readSeconds),
      peakRssMiB: toMiB(readPeak),
    },
    sha256: ref.sha256,
    verified,
  };
  console.log(JSON.stringify(report, null, 2));

  return verified && growthMiB <= RSS_GROWTH_LIMIT_MIB;
}

async function main(): Promise<void> {
  const chunks = parseMiB(process.argv.slice(2));
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'stoq-blobstore-memory-'));
  try {
    const ok = await measure(root, chunks);
    if (!ok) process.exitCode = 1;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
