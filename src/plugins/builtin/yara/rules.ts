/**
 * Loading and compiling YARA rules with YARA-X. Each rule file compiles on its own, so a
 * compile error names its file and line, and rules of different files may share a name
 * (their namespaces differ: the file's path below the rules directory, without extension).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { compile, type YaraX } from '@litko/yara-x';

const RULE_EXTENSIONS = new Set(['.yar', '.yara']);
/** A rules directory deeper than this is a mistake (or a symlink loop), not a rule set. */
const MAX_DEPTH = 8;
const MAX_RULE_FILE_BYTES = 32 * 1024 * 1024;

/** One compiled rule source and the namespace its matches are reported under. */
export interface CompiledRules {
  namespace: string;
  scanner: YaraX;
}

/** A rules file or text that does not compile; the message names the source, line and reason. */
export class RuleCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleCompileError';
  }
}

/** Where rules come from: a file or directory, inline text, or both. */
export interface RuleSources {
  rules?: string;
  rules_text?: string;
}

/**
 * Compiles every source once. Throws {@link RuleCompileError} on the first source that does
 * not compile, so a plugin never scans with part of its rules.
 */
export function compileRules(
  sources: RuleSources,
  baseDir: string,
  maxMatches: number,
): CompiledRules[] {
  const compiled: CompiledRules[] = [];
  if (sources.rules) {
    const root = isAbsolute(sources.rules) ? sources.rules : resolve(baseDir, sources.rules);
    for (const file of ruleFiles(root)) {
      const namespace = namespaceOf(root, file);
      compiled.push({ namespace, scanner: compileSource(readRuleFile(file), file, dirname(file)) });
    }
  }
  if (sources.rules_text) {
    compiled.push({
      namespace: 'default',
      scanner: compileSource(sources.rules_text, 'rules_text'),
    });
  }
  for (const c of compiled) c.scanner.setMaxMatchesPerPattern(maxMatches);
  return compiled;
}

function ruleFiles(root: string): string[] {
  let stat;
  try {
    stat = statSync(root);
  } catch (err) {
    throw new RuleCompileError(`yara rules path ${root} cannot be read: ${(err as Error).message}`);
  }
  if (stat.isFile()) return [root];

  const files = collect(root, 0).sort();
  if (files.length === 0)
    throw new RuleCompileError(`yara rules directory ${root} holds no .yar or .yara file`);
  return files;
}

function collect(dir: string, depth: number): string[] {
  if (depth > MAX_DEPTH)
    throw new RuleCompileError(`yara rules directory ${dir} is nested too deep`);
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path, depth + 1);
    return entry.isFile() && RULE_EXTENSIONS.has(extname(entry.name).toLowerCase()) ? [path] : [];
  });
}

function namespaceOf(root: string, file: string): string {
  const rel = root === file ? file.slice(dirname(file).length + 1) : relative(root, file);
  return rel
    .slice(0, rel.length - extname(rel).length)
    .split('\\')
    .join('/');
}

function readRuleFile(file: string): string {
  if (statSync(file).size > MAX_RULE_FILE_BYTES) {
    throw new RuleCompileError(
      `yara rules file ${file} is larger than ${MAX_RULE_FILE_BYTES} bytes`,
    );
  }
  return readFileSync(file, 'utf8');
}

function compileSource(source: string, origin: string, includeDir?: string): YaraX {
  try {
    return compile(source, includeDir ? { includeDirectories: [includeDir] } : undefined);
  } catch (err) {
    throw new RuleCompileError(describeCompileError(origin, (err as Error).message));
  }
}

/** Turns YARA-X's multi-line diagnostic into `origin:line:column: reason`. */
export function describeCompileError(origin: string, diagnostic: string): string {
  const position = /-->\s*line:(\d+):(\d+)/.exec(diagnostic);
  const reason = /error\[\w+\]:\s*(.+)/.exec(diagnostic)?.[1] ?? diagnostic.split('\n')[0];
  const where = position ? `${origin}:${position[1]}:${position[2]}` : origin;
  return `yara rules do not compile: ${where}: ${reason}`;
}
