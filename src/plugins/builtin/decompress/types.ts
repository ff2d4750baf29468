import type { Payload } from '../../api';
import type { ExtractionBudget } from './budget';

export const ARCHIVE_FORMATS = ['zip', 'tar', 'gzip', 'bzip2', 'xz', '7z'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

/** One member read out of an archive, in memory. */
export interface ExtractedMember {
  /** Sanitized name (see `sanitizeMemberName`). */
  filename: string;
  content: Buffer;
  /** The password that opened the member, when it was encrypted. */
  password?: string;
}

/** What an extractor gets: the budget to charge, passwords to try, and where members go. */
export interface ExtractionContext {
  budget: ExtractionBudget;
  passwords: readonly string[];
  add(member: ExtractedMember): void;
  /** Records a per-member problem; extraction goes on with the next member. */
  error(message: string): void;
}

/**
 * Reads the members of one archive format. Throws `LimitReached` to stop at a limit, any
 * other error when the archive as a whole cannot be read.
 */
export type Extractor = (payload: Payload, context: ExtractionContext) => Promise<void>;
