// Every way to Productionise reaches the same preview: the notebook toolbar button, the
// cell context menu, the keyboard shortcut (Accel Alt P) and the command palette.
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { codeNotebook, openNotebook, openPanel, section, snapshot } from './mlops';

/** A two-cell notebook: quick to plan, and no git repository is needed for a preview. */
const CELLS = ['import math\nradius = 2.0', 'area = math.pi * radius ** 2\nprint(f"area: {area:.3f}")'];

const NAME = 'entry-points.ipynb';

async function preview(panel: Locator): Promise<Locator> {
  const region = section(panel, 'Notebook').getByRole('region', {
    name: 'Productionise preview',
    exact: true
  });
  await expect(region).toBeVisible({ timeout: 60 * 1000 });
  await expect(region.getByLabel('Generated module', { exact: true })).toContainText('def main(');
  return region;
}

async function closePreview(region: Locator): Promise<void> {
  await region.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(region).toBeHidden();
}

function firstCell(page: IJupyterLabPageFixture): Locator {
  return page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first();
}

test('the toolbar, context menu, shortcut and palette all Productionise', async ({
  page,
  tmpPath
}, testInfo) => {
  await page.contents.uploadContent(codeNotebook(CELLS), 'text', `${tmpPath}/${NAME}`);
  await openNotebook(page, `${tmpPath}/${NAME}`);
  const panel = await openPanel(page);

  // 1. The notebook toolbar button.
  const button = page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar [data-command="mlops:productionise"]'
  );
  await expect(button).toBeVisible();
  await button.click();
  await snapshot(page, testInfo, 'toolbar', await preview(panel));
  await closePreview(await preview(panel));

  // 2. The cell context menu.
  await firstCell(page).click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Productionise' }).click();
  await closePreview(await preview(panel));

  // 3. The keyboard shortcut, in command mode on the notebook.
  await firstCell(page).locator('.jp-InputPrompt').click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Alt+p');
  await closePreview(await preview(panel));

  // 4. The command palette.
  await page.keyboard.press('Control+Shift+c');
  const palette = page.locator('#modal-command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('input').fill('Productionise');
  const item = palette.locator('.lm-CommandPalette-item', { hasText: 'Productionise' });
  await expect(item).toBeVisible();
  await expect(item).toContainText('Ctrl+Alt+P'); // the palette shows the shortcut too
  await item.click();
  await snapshot(page, testInfo, 'palette', await preview(panel));
  await closePreview(await preview(panel));
});
