import stdoutPlugin, { writeJson } from '../../../src/plugins/builtin/stdout';
import { stoqResponseSchema } from '../../../src/model/schemas';
import { createSetupContext } from './setup-a';

const response = stoqResponseSchema.parse({
  scan_id: 'scan-7',
  time: '2024-03-01T10:00:00Z',
  results: [{ payload_id: 'p', size: 1, workers: { hash: { md5: 'abc' } } }],
});

describe('stdout connector', () => {
  it('prints the response as indented JSON on stdout', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((
      text: string,
      cb?: () => void,
    ) => {
      written.push(text);
      cb?.();
      return true;
    }) as typeof process.stdout.write);
    const plugin = await stdoutPlugin.create(stdoutPlugin.options.parse({}), createSetupContext());

    try {
      await plugin.connector!.save(response);
    } finally {
      spy.mockRestore();
    }

    expect(written).toEqual([`${JSON.stringify(response, null, 2)}\n`]);
  });

  it('prints one line per response with indent 0', async () => {
    const lines: string[] = [];
    const sink = { write: (text: string, cb: () => void) => (lines.push(text), cb(), true) };

    await writeJson(sink, response, 0);

    expect(lines[0].trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual(response);
  });

  it('rejects an out-of-range indent naming the option', () => {
    const parsed = stdoutPlugin.options.safeParse({ indent: 99 });

    expect(parsed.error?.issues[0].path).toEqual(['indent']);
  });
});
