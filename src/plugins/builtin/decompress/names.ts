/**
 * Member names come from the archive, so from the attacker. They are only ever metadata
 * here (members are extracted to memory, never to disk), but they travel on to plugins that
 * may write files, so they are made safe once, at the source.
 */

const FALLBACK_NAME = 'unnamed';

/**
 * A relative, forward-slash path without `.`/`..` segments, NUL or other control characters,
 * drive letters or leading slashes. Never empty.
 *
 * @example sanitizeMemberName('../../etc/passwd') === 'etc/passwd'
 */
export function sanitizeMemberName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = name.replace(/[\u0000-\u001f\u007f]/g, '');
  const segments = printable
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => segment.trim())
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .map((segment) => segment.replace(/^[a-zA-Z]:$/, ''))
    .filter((segment) => segment !== '');
  return segments.join('/') || FALLBACK_NAME;
}

/** Only the last path segment of a sanitized name. */
export function baseName(name: string): string {
  const sanitized = sanitizeMemberName(name);
  return sanitized.slice(sanitized.lastIndexOf('/') + 1);
}
