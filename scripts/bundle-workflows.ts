/**
 * Build step: bundles the workflow code once, so workers load `dist/workflow-bundle.js`
 * instead of running webpack at every start.
 *
 * Runs compiled, from `dist/scripts/`, as the last step of `npm run build`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** The directory holding package.json, whether this runs from `scripts/` or `dist/scripts/`. */
function projectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

async function main(): Promise<void> {
  const root = projectRoot(__dirname);
  const workflowsPath = path.join(root, 'src', 'workflows', 'index.ts');
  const outFile = path.join(root, 'dist', 'workflow-bundle.js');
  if (!existsSync(workflowsPath)) {
    console.log(`bundle-workflows: ${workflowsPath} does not exist yet, nothing to bundle`);
    return;
  }

  const bundle = await bundleWorkflowCode({ workflowsPath });

  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, bundle.code);
  console.log(
    `bundle-workflows: wrote ${path.relative(root, outFile)} (${bundle.code.length} bytes)`,
  );
}

main().catch((err: unknown) => {
  console.error('bundle-workflows failed:', err);
  process.exitCode = 1;
});
