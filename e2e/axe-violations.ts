// axe-core over the page as it is now: the serious and critical violations, one line per node.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

export async function seriousViolations(app: Page, where: string): Promise<string[]> {
  const results = await new AxeBuilder({ page: app }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) => violation.nodes.map((node) => `${where}: [${violation.impact}] ${violation.id} (${violation.help}) at ${node.target.join(' ')}`));
}
