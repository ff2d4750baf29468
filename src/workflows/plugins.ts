/** Whether a plugin named by the plan can run as a given kind (workflow code, pure). */
import type { PluginPlan, ScanPlan } from './types';

/** Why `name` cannot run as a `kind` under this plan, or undefined when it can. */
export function pluginProblem(plan: ScanPlan, name: string, kind: string): string | undefined {
  const plugin = plan.plugins[name];
  if (!plugin) return `unknown plugin "${name}"`;
  if (plugin.invalid) return plugin.invalid;
  return plugin.kinds.includes(kind) ? undefined : `plugin "${name}" is not a ${kind}`;
}

/** The named plugins that can run as `kind`; each one that cannot is reported. */
export function usablePlugins(
  plan: ScanPlan,
  names: readonly string[],
  kind: string,
  report: (problem: string, name: string) => void,
): PluginPlan[] {
  const usable: PluginPlan[] = [];
  for (const name of names) {
    const problem = pluginProblem(plan, name, kind);
    if (problem) report(problem, name);
    else usable.push(plan.plugins[name]);
  }
  return usable;
}
