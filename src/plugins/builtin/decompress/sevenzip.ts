/**
 * 7z members via 7-Zip compiled to WASM (`7z-wasm`). The archive and its output live in the
 * module's in-memory filesystem, never on disk. Sizes from the archive's listing are checked
 * against the budget before anything is decompressed.
 */
import SevenZip, { type SevenZipModule } from '7z-wasm';
import { collect } from './budget';
import { sanitizeMemberName } from './names';
import type { ExtractionContext, Extractor } from './types';

const ARCHIVE = '/archive.7z';
const OUT_DIR = '/out';
// 7-Zip prompts on stdin when no password is given for an encrypted archive; never let it.
const NO_PASSWORD = 'stoq-no-password';
const WRONG_PASSWORD = /wrong password|cannot open encrypted archive|data error in encrypted/i;

interface ListedMember {
  path: string;
  size: number;
}

interface SevenZipRun {
  module: SevenZipModule;
  output: string[];
}

export const extractSevenZip: Extractor = async (payload, context) => {
  // TODO(decompress): 7-Zip extracts all members into WASM memory at once (bounded by the
  // declared sizes checked first) and each password try re-opens the module; a per-member
  // extraction loop would lower peak memory.
  const archive = await payload.bytes();
  const candidates = context.passwords.length > 0 ? context.passwords : [NO_PASSWORD];

  for (const password of candidates) {
    const run = await openArchive(archive);
    const listing = list(run, password);
    if (listing === 'wrong-password') continue;

    checkListing(listing, context);
    const extracted = extractAll(run, password);
    if (extracted === 'wrong-password') continue;

    await collectMembers(run, listing, context, password === NO_PASSWORD ? undefined : password);
    return;
  }
  context.error(`7z: encrypted, none of the ${context.passwords.length} passwords opened it`);
};

async function openArchive(archive: Buffer): Promise<SevenZipRun> {
  const output: string[] = [];
  const capture = (line: string) => output.push(line);
  const module = await SevenZip({
    print: capture,
    printErr: capture,
    stdin: () => null as unknown as number,
  });
  module.FS.writeFile(ARCHIVE, archive);
  return { module, output };
}

function run7z(run: SevenZipRun, args: string[]): string {
  run.output.length = 0;
  run.module.callMain(args);
  return run.output.join('\n');
}

function list(run: SevenZipRun, password: string): ListedMember[] | 'wrong-password' {
  const text = run7z(run, ['l', '-slt', '-t7z', `-p${password}`, ARCHIVE]);
  if (WRONG_PASSWORD.test(text)) return 'wrong-password';
  if (/^ERROR:/m.test(text) || !text.includes('----------')) {
    throw new Error(`7z: cannot read archive: ${firstError(text)}`);
  }
  return parseListing(text);
}

/** Members from `7z l -slt` output: blocks of `Key = value` lines after the `----------` line. */
export function parseListing(text: string): ListedMember[] {
  const body = text.slice(text.indexOf('----------') + 10);
  const members: ListedMember[] = [];

  for (const block of body.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([A-Za-z ]+?) = (.*)$/.exec(line.trim());
      if (match) fields.set(match[1], match[2]);
    }
    const path = fields.get('Path');
    if (path === undefined || (fields.get('Attributes') ?? '').startsWith('D')) continue;
    members.push({ path, size: Number(fields.get('Size') ?? 0) || 0 });
  }
  return members;
}

function checkListing(listing: ListedMember[], context: ExtractionContext): void {
  let declared = 0;
  for (const _member of listing) context.budget.admitMember();
  for (const member of listing) declared += member.size;
  context.budget.checkDeclared(declared);
}

function extractAll(run: SevenZipRun, password: string): 'ok' | 'wrong-password' {
  const text = run7z(run, ['x', '-t7z', '-y', `-p${password}`, `-o${OUT_DIR}`, ARCHIVE]);
  if (WRONG_PASSWORD.test(text)) return 'wrong-password';
  if (/^ERROR:/m.test(text) && !text.includes('Everything is Ok')) {
    throw new Error(`7z: extraction failed: ${firstError(text)}`);
  }
  return 'ok';
}

async function collectMembers(
  run: SevenZipRun,
  listing: ListedMember[],
  context: ExtractionContext,
  password: string | undefined,
): Promise<void> {
  const { FS } = run.module;
  for (const member of listing) {
    const path = `${OUT_DIR}/${member.path}`;
    let content: Uint8Array;
    try {
      content = FS.readFile(path);
    } catch {
      context.error(`${sanitizeMemberName(member.path)}: not extracted by 7-Zip`);
      continue;
    }

    const meter = context.budget.member();
    const buffer = await collect([content], meter);
    meter.commit();
    FS.unlink(path);
    context.add({ filename: sanitizeMemberName(member.path), content: buffer, password });
  }
}

function firstError(text: string): string {
  const line = text.split('\n').find((l) => /error/i.test(l) && l.trim() !== 'ERRORS:');
  return (line ?? 'unknown error').trim();
}
