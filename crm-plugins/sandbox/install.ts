/** Installing the SMS fields on the sandbox CRM, removing them, and checking them. */
import type { CrmHealth, InstallPlan, InstallReport, InstallStep, UninstallReport } from '../types.ts';
import { SANDBOX_FIELDS, sandboxPlan } from './mapping.ts';
import type { SandboxStore } from './store.ts';

/** What install would create and what is already there. */
export async function planSandboxInstall(store: SandboxStore): Promise<InstallPlan> {
  return sandboxPlan((target) => store.installedFields.has(target));
}

/** Adds the plan's fields that are missing; running it again creates nothing. */
export async function installSandbox(store: SandboxStore, plan?: InstallPlan): Promise<InstallReport> {
  const steps: InstallStep[] = (plan ?? sandboxPlan((t) => store.installedFields.has(t))).steps;
  const report = { created: [] as string[], alreadyPresent: [] as string[] };
  for (const step of steps) {
    if (store.installedFields.has(step.target)) report.alreadyPresent.push(step.target);
    else {
      store.installedFields.add(step.target);
      report.created.push(step.target);
    }
  }
  return report;
}

/** Removes every SMS field. */
export async function uninstallSandbox(store: SandboxStore): Promise<UninstallReport> {
  const removed = [...store.installedFields];
  const absent = SANDBOX_FIELDS.map((f) => f.target).filter((t) => !store.installedFields.has(t));
  store.installedFields.clear();
  return { removed, absent };
}

/** Healthy once every SMS field is installed. */
export async function checkSandboxHealth(store: SandboxStore): Promise<CrmHealth> {
  const installed = store.isInstalled();
  return {
    ok: installed,
    detail: `${store.records.size} records; SMS fields ${installed ? 'installed' : 'not installed'}`,
  };
}
