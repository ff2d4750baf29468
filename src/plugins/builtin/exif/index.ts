/**
 * `exif` worker: metadata of images, documents, audio and video as ExifTool reads it, through
 * exiftool-vendored (which runs its vendored ExifTool on the system Perl; nothing is
 * downloaded). One long-lived ExifTool process serves each plugin instance and ends in close().
 */
import { ExifTool } from 'exiftool-vendored';
import { z } from 'zod';
import { definePlugin, PluginError } from '../../api';

const GROUP_ARGS = { none: [], family0: ['-G'], family1: ['-G1'] } as const;

export const exifOptions = z.object({
  /**
   * Prefix tag names with their group: `family0` gives `EXIF:Make`, `family1` gives
   * `IFD0:Make`, `none` gives `Make` (a tag present in two groups then keeps one value).
   */
  groups: z.enum(['none', 'family0', 'family1']).default('family0'),
  /** Report raw numeric values instead of ExifTool's print conversions (`-n`). */
  numeric: z.boolean().default(false),
  /** Per-payload time limit for ExifTool. */
  timeout_ms: z.number().int().positive().default(30_000),
});

/**
 * The `exif` worker's result: ExifTool's tags, keyed as the `groups` option says. ExifTool's
 * own bookkeeping (SourceFile, the System group about the scan's temporary file, the ExifTool
 * version) is left out; `warnings` lists what ExifTool warned about, when anything.
 */
export type ExifResults = Record<string, unknown>;

const DROPPED_KEYS = new Set(['SourceFile', 'errors', 'warnings']);

function tidy(raw: Record<string, unknown>): ExifResults {
  const results: ExifResults = {};
  for (const [key, value] of Object.entries(raw)) {
    if (DROPPED_KEYS.has(key) || /^(ExifTool:)?ExifToolVersion$/.test(key)) continue;
    results[key] = value;
  }
  const warnings = raw.warnings;
  if (Array.isArray(warnings) && warnings.length > 0) results.warnings = warnings;
  return results;
}

export default definePlugin({
  name: 'exif',
  version: '1.0.0',
  description: 'Reads file metadata (EXIF, XMP, IPTC, document properties...) with ExifTool',
  kinds: ['worker'],
  options: exifOptions,
  create(options) {
    const exiftool = new ExifTool({ maxProcs: 1, taskTimeoutMillis: options.timeout_ms });
    const readArgs = [
      ...GROUP_ARGS[options.groups],
      ...(options.numeric ? ['-n'] : []),
      '--System:all',
      '-api',
      'largefilesupport=1',
    ];

    return {
      worker: {
        async scan(payload) {
          const path = await payload.filePath();

          let raw: Record<string, unknown>;
          try {
            raw = await exiftool.readRaw(path, { readArgs, useMWG: false });
          } catch (err) {
            // A timeout or a crashed ExifTool process may pass on another attempt.
            throw new PluginError(`exiftool failed: ${(err as Error).message}`, { cause: err });
          }

          const errors = Array.isArray(raw.errors) ? raw.errors.map(String) : [];
          return { results: tidy(raw), errors };
        },
      },
      async close() {
        await exiftool.end();
      },
    };
  },
});
