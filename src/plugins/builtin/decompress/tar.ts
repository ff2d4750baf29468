/** Tar members via tar-stream: regular files only, streamed one at a time. */
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { collect } from './budget';
import { sanitizeMemberName } from './names';
import type { Extractor } from './types';

const FILE_TYPES = new Set(['file', 'contiguous-file']);

export const extractTar: Extractor = async (payload, context) => {
  const extractor = extract();
  const feeding = pipeline(payload.stream(), extractor).catch(() => {
    // The iteration below sees the same failure and reports it.
  });

  try {
    for await (const entry of extractor) {
      const { name, type, size } = entry.header;
      if (!FILE_TYPES.has(type ?? 'file')) {
        entry.resume();
        continue;
      }

      context.budget.admitMember();
      context.budget.checkDeclared(size ?? 0);
      const meter = context.budget.member();
      const content = await collect(entry as unknown as AsyncIterable<Uint8Array>, meter);
      meter.commit();
      context.add({ filename: sanitizeMemberName(name), content });
    }
  } finally {
    extractor.destroy();
    await feeding;
  }
};
