/**
 * `mimetype` worker: the payload's content type according to libmagic.
 *
 * Result: `{ mimetype, description }`, e.g.
 * `{ "mimetype": "message/rfc822", "description": "news or mail, ASCII text" }`.
 */
import { z } from 'zod';
import { definePlugin } from '../../api';
import { DEFAULT_DETECT_BYTES, detectPayload, type Detection } from './detect';

export const mimetypeOptions = z.object({
  /** Bytes from the start of the payload that libmagic examines. */
  max_bytes: z.number().int().positive().default(DEFAULT_DETECT_BYTES),
});

/** The `mimetype` worker's result. */
export type MimetypeResults = Detection;

export default definePlugin({
  name: 'mimetype',
  version: '1.0.0',
  description: 'Identifies the content type of a payload with libmagic',
  kinds: ['worker'],
  options: mimetypeOptions,
  create: (options) => ({
    worker: {
      async scan(payload) {
        const results: MimetypeResults = await detectPayload(payload, options.max_bytes);
        return { results };
      },
    },
  }),
});
