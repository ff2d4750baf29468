/** `stoq list`: every plugin found, built-in or installed. */
import { loadAppContext } from '../../app/context';
import { listFlagsSchema, parseFlags } from '../options';
import { printJson, printLine } from '../output';
import { appFlagsOf } from './common';

export async function listCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(listFlagsSchema, raw);
  const ctx = loadAppContext(appFlagsOf(flags));
  const rows = ctx.registry.list().map(({ definition, directory }) => ({
    name: definition.name,
    version: definition.version,
    kinds: [...definition.kinds],
    description: definition.description,
    source: directory ?? 'builtin',
  }));

  if (flags.json) {
    await printJson(rows);
    return;
  }
  const table = [
    ['NAME', 'VERSION', 'KINDS', 'DESCRIPTION'],
    ...rows.map((row) => [row.name, row.version, row.kinds.join(','), row.description]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table) {
    await printLine(
      row
        .map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell))
        .join('  ')
        .trimEnd(),
    );
  }
}
