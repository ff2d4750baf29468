#!/usr/bin/env node
/**
 * The `stoq` command line. Each command lives in ./commands; this file declares the flags
 * and is the one place that turns a failure into a line on stderr and an exit status:
 * 0 done (plugin errors are data in the response), 2 usage or config mistakes, 1 the
 * infrastructure failed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { exitCodeFor, oneLine } from './errors';
import { collectList, collectRaw } from './options';
import { cancelCommand } from './commands/cancel';
import { codecServerCommand } from './commands/codec-server';
import { historyCommand } from './commands/history';
import { installCommand } from './commands/install';
import { listCommand } from './commands/list';
import { runCommand } from './commands/run';
import { scanCommand } from './commands/scan';
import { serverCommand } from './commands/server';
import { setupCommand } from './commands/setup';
import { retryCommand } from './commands/retry';
import { showCommand } from './commands/show';
import { statusCommand } from './commands/status';
import { workerCommand } from './commands/worker';

type Opts = Record<string, unknown>;

function addCommon(command: Command): Command {
  return command
    .option('--config-file <path>', 'stoq.cfg to read (default: <stoQ home>/stoq.cfg)')
    .option(
      '--plugin-dir <dir>',
      'another plugin directory (repeatable, comma-separated)',
      collectList,
    )
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    );
}

function addConnection(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend address (env TEMPORAL_ADDRESS)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--api-key <key>', 'API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY)')
    .option('--tls', 'connect with TLS (env TEMPORAL_TLS)')
    .option('--tls-cert-path <path>', 'client certificate for mTLS')
    .option('--tls-key-path <path>', 'client private key for mTLS')
    .option('--tls-ca-path <path>', 'CA certificate that signed the server certificate')
    .option('--tls-server-name <name>', 'server name to verify instead of the address host')
    .option('--profile <name>', 'profile of the Temporal client config file (env TEMPORAL_PROFILE)')
    .option('--connect-timeout <seconds>', 'how long to try reaching the server (default 5)');
}

function addPlan(command: Command): Command {
  return command
    .option(
      '-s, --start-dispatch <workers>',
      'workers for the root payload only (repeatable, comma-separated)',
      collectList,
    )
    .option('-a, --always-dispatch <workers>', 'workers for every payload', collectList)
    .option('-R, --dispatchers <names>', 'dispatcher plugins', collectList)
    .option('-A, --dest-archivers <names>', 'archivers that store payloads', collectList)
    .option(
      '-S, --source-archivers <names>',
      'archivers that fetch archived provider items',
      collectList,
    )
    .option('-D, --decorators <names>', 'decorator plugins', collectList)
    .option(
      '-C, --connectors <names>',
      'connectors that save the response (none: print it)',
      collectList,
    )
    .option('--max-recursion <n>', 'how deep extracted payloads are scanned')
    .option(
      '--plugin-opts <NAME:KEY=VALUE...>',
      'plugin options; the value may hold "=" and ":"',
      collectRaw,
    )
    .option('--request-source <source>', 'request_meta.source')
    .option('--request-extra <KEY=VALUE...>', 'request_meta.extra_data entries', collectRaw)
    .option(
      '--task-queue <name>',
      'task queue of the scan workflows (default: stoq.cfg, else "stoq")',
    )
    .option('--local-worker', 'run an in-process worker even when a server address is configured');
}

export function buildProgram(): Command {
  const program = new Command('stoq')
    .description('stoQ payload analysis on Temporal')
    .version(packageVersion())
    .showSuggestionAfterError()
    .exitOverride()
    // Our handler prints the one line; commander would print its own copy first.
    .configureOutput({ outputError: () => {} });

  const scan = program
    .command('scan')
    .description('scan a file, or stdin, and print the response')
    .argument('[file]', 'file to scan; "-" or nothing reads stdin');
  addConnection(addPlan(addCommon(scan)))
    .option('--scan-id <id>', 'scan id (the workflow id); default a new UUID')
    .option('--detach', 'print the scan id as soon as the scan started and return')
    .action((file: string | undefined, opts: Opts) => scanCommand(file, opts));

  const run = program.command('run').description('feed scans from provider plugins');
  addConnection(addPlan(addCommon(run)))
    .requiredOption(
      '-P, --providers <names>',
      'provider plugins (repeatable, comma-separated)',
      collectList,
    )
    .option('--max-queue <n>', 'scans in flight at most (default: [core] max_queue)')
    .option(
      '--provider-consumers <n>',
      'scans being started at once (default: [core] provider_consumers)',
    )
    .option('--no-wait', 'on stop, do not wait for the scans in flight to finish')
    .action((opts: Opts) => runCommand(opts));

  addCommon(program.command('list').description('list the plugins found'))
    .option('--json', 'print JSON instead of a table')
    .action((opts: Opts) => listCommand(opts));

  addCommon(
    program
      .command('install')
      .description('install a plugin into <stoQ home>/plugins')
      .argument('<target>', 'plugin directory or npm package'),
  )
    .option('--upgrade', 'replace an installed plugin of the same name')
    .action((target: string, opts: Opts) => installCommand(target, opts));

  addConnection(addCommon(program.command('worker').description('run a stoQ worker')))
    .option('--task-queue <name>', 'task queue to poll (default: stoq.cfg, else "stoq")')
    .option('--max-concurrent-activities <n>', 'plugin calls at once (default 20)')
    .option('--max-concurrent-workflows <n>', 'workflow tasks at once (default 40)')
    .action((opts: Opts) => workerCommand(opts));

  addCommon(
    program.command('server').description('run the local Temporal dev server with the Web UI'),
  )
    .option('--port <port>', 'gRPC port (default 7233)')
    .option('--ui-port <port>', 'Web UI port (default 8233)')
    .option('--ip <address>', 'interface to bind (default 127.0.0.1)')
    .option('--namespace <name>', 'namespace to create (default: stoq.cfg, else "default")')
    .option('--headless', 'no Web UI')
    .action((opts: Opts) => serverCommand(opts));

  addConnection(
    addCommon(
      program.command('show').description("print a finished scan's response").argument('<scan-id>'),
    ),
  )
    .option('--wait', 'wait for a running scan to finish')
    .action((scanId: string, opts: Opts) => showCommand(scanId, opts));

  const retry = program
    .command('retry')
    .description('run the plugins that failed in a finished scan again, as a new scan')
    .argument('<scan-id>', 'the original scan');
  addConnection(addPlan(addCommon(retry)))
    .option(
      '--plugin <names>',
      'only these failed plugins (repeatable, comma-separated)',
      collectList,
    )
    .option('--scan-id <id>', "the retry's scan id; default a new UUID")
    .option('--detach', 'print the retry scan id as soon as it started and return')
    .action((scanId: string, opts: Opts) => retryCommand(scanId, opts));

  addConnection(
    addCommon(
      program.command('status').description('show how far a scan got').argument('<scan-id>'),
    ),
  )
    .option('--json', 'print a JSON object instead of lines')
    .action((scanId: string, opts: Opts) => statusCommand(scanId, opts));

  addConnection(
    addCommon(
      program
        .command('cancel')
        .description('cancel a running scan, keeping its partial response')
        .argument('<scan-id>'),
    ),
  )
    .option('--no-wait', 'return once the cancellation is requested')
    .action((scanId: string, opts: Opts) => cancelCommand(scanId, opts));

  addConnection(addCommon(program.command('history').description('list scans, newest first')))
    .option('--sha256 <hash>', 'scans whose root or any extracted payload has this SHA-256')
    .option('--filename <name>', "the root payload's file name")
    .option('--source <source>', 'request_meta.source')
    .option('--errors', 'only scans that recorded errors')
    .option('--no-errors', 'only scans without errors')
    .option('--since <time>', 'started at or after: ISO time, or a duration back (24h, 7d)')
    .option('--until <time>', 'started at or before: ISO time, or a duration back')
    .option('--worker <name>', 'a worker that ran in the scan')
    .option('--yara-rule <name>', 'a YARA rule that matched')
    .addOption(
      new Option('--status <status>', 'workflow status').choices([
        'running',
        'completed',
        'failed',
        'cancelled',
      ]),
    )
    .option('--limit <n>', 'scans to list at most (default 50)')
    .option('--json', 'one JSON object a line')
    .action((opts: Opts) => historyCommand(opts));

  addConnection(
    addCommon(
      program
        .command('setup')
        .description("register stoQ's search attributes and set the retention on a server"),
    ),
  ).action((opts: Opts) => setupCommand(opts));

  addCommon(
    program
      .command('codec-server')
      .description('decode stoQ payloads for the Temporal Web UI and CLI ([codec] keys)'),
  )
    .option('--port <port>', 'port to listen on (default 8888)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option(
      '--allowed-origin <origin>',
      'Web UI origin allowed to call it (repeatable)',
      collectRaw,
    )
    .option('--auth-token <token>', 'require this bearer token (env STOQ_CODEC_AUTH_TOKEN)')
    .action((opts: Opts) => codecServerCommand(opts));

  return program;
}

function packageVersion(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

/** Runs the command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    const code = exitCodeFor(error);
    if (code !== 0) process.stderr.write(`stoq: ${oneLine(error)}\n`);
    if (debugging(argv) && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    return code;
  }
}

function debugging(argv: string[]): boolean {
  const level =
    argv.find((arg, i) => argv[i - 1] === '--log-level') ??
    argv.find((arg) => arg.startsWith('--log-level='))?.slice(12);
  const effective = level ?? process.env.STOQ_LOG_LEVEL;
  return effective === 'debug' || effective === 'trace';
}

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}
