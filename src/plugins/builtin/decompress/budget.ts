/**
 * Extraction limits. Every byte a decompressor produces is charged to one budget, so a zip
 * bomb stops at the first limit instead of filling memory.
 */

/** The limits of one extraction, as configured in the plugin options. */
export interface ExtractionLimits {
  max_total_bytes: number;
  max_members: number;
  max_ratio: number;
  ratio_grace_bytes: number;
}

/** Raised when an extraction reaches a limit; `limit` is the option name that was hit. */
export class LimitReached extends Error {
  constructor(
    readonly limit: keyof ExtractionLimits,
    message: string,
  ) {
    super(message);
    this.name = 'LimitReached';
  }
}

/**
 * Tracks what an extraction produced against its limits. Members are charged while they
 * stream (`member()`), and only committed once complete, so a member abandoned half-way
 * (a wrong password) does not count.
 */
export class ExtractionBudget {
  private committedBytes = 0;
  private committedMembers = 0;

  constructor(
    private readonly limits: ExtractionLimits,
    /** Size of the archive itself, the denominator of the compression ratio. */
    private readonly compressedSize: number,
  ) {}

  get totalBytes(): number {
    return this.committedBytes;
  }

  /** Checks, before a member is read, that one more member is allowed. */
  admitMember(): void {
    if (this.committedMembers >= this.limits.max_members) {
      throw new LimitReached(
        'max_members',
        `limit max_members (${this.limits.max_members}) reached, extraction stopped`,
      );
    }
  }

  /** Checks a size announced by the archive (a header), before anything is decompressed. */
  checkDeclared(bytes: number): void {
    this.check(this.committedBytes + bytes);
  }

  /** A meter for one member; `add` throws {@link LimitReached} as soon as a limit is passed. */
  member(): MemberMeter {
    let bytes = 0;
    return {
      add: (n: number) => {
        bytes += n;
        this.check(this.committedBytes + bytes);
      },
      commit: () => {
        this.committedBytes += bytes;
        this.committedMembers += 1;
      },
    };
  }

  private check(total: number): void {
    const { max_total_bytes, max_ratio, ratio_grace_bytes } = this.limits;
    if (total > max_total_bytes) {
      throw new LimitReached(
        'max_total_bytes',
        `limit max_total_bytes (${max_total_bytes}) reached, extraction stopped`,
      );
    }

    // Small outputs are exempt: a 10 KiB file of zeros is not an attack.
    const ratio = total / Math.max(1, this.compressedSize);
    if (total > ratio_grace_bytes && ratio > max_ratio) {
      throw new LimitReached(
        'max_ratio',
        `limit max_ratio (${max_ratio}) reached: ${total} bytes out of a ` +
          `${this.compressedSize} byte archive, extraction stopped`,
      );
    }
  }
}

export interface MemberMeter {
  add(bytes: number): void;
  commit(): void;
}

/** Reads a stream into memory, charging every chunk to `meter`. */
export async function collect(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  meter: MemberMeter,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) {
    meter.add(chunk.length);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(parts);
}
