/** stdout carries only results and command output; these wait for the write to flush. */
export function printLine(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

export function printJson(value: unknown, indent = 2): Promise<void> {
  return printLine(JSON.stringify(value, null, indent || undefined));
}
