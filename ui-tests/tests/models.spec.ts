// The Models section on real models: two runs train a scikit-learn model and log it
// (mlops_kernel.log_model), the daemon registers each version and evaluates its gates
// (the first project's tests pass, the second's fail); in the panel the gate checks show
// with their lessons, version 1 is promoted to staging, cut out and restored, and a
// promotion of version 2 is refused with the daemon's message until it is overridden
// with a reason, which the history marks.
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import { daemonApi, openPanel, serverStatus, snapshot } from './mlops';

const LONG = 5 * 60 * 1000;

interface Run {
  id: string;
  status: string;
}

interface Check {
  name: string;
  status: string;
  required: boolean;
  lesson: string;
}

interface Version {
  version: number;
  run_id: string;
  gate: { status: 'pending' | 'passed' | 'failed'; passed: boolean; checks: Check[] } | null;
}

interface Detail {
  versions: Version[];
  events: { actor: string; override: boolean; reason: string | null }[];
}

/** A training script: a small classifier on iris, logged as `name`. */
function trainScript(name: string): string {
  return [
    'from sklearn.datasets import load_iris',
    'from sklearn.linear_model import LogisticRegression',
    'from sklearn.pipeline import make_pipeline',
    'from sklearn.preprocessing import StandardScaler',
    '',
    'import mlops_kernel',
    '',
    'X, y = load_iris(return_X_y=True)',
    'X = X.astype("float32")',
    'model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)',
    'mlops_kernel.log_metric("accuracy", float(model.score(X, y)))',
    `mlops_kernel.log_model(model, X[:5], name=${JSON.stringify(name)}, evaluation=(X, y))`,
    ''
  ].join('\n');
}

const PASSING_TEST = 'def test_arithmetic():\n    assert 1 + 1 == 2\n';
const FAILING_TEST = 'def test_the_model_is_good_enough():\n    assert 0.4 > 0.9, "accuracy too low"\n';

/** Write a project (train.py and tests/) under `folder` and start its run. */
async function startRun(
  page: IJupyterLabPageFixture,
  request: APIRequestContext,
  folder: string,
  model: string,
  test: string
): Promise<Run> {
  const { root_dir } = await serverStatus(request);
  await page.contents.uploadContent(trainScript(model), 'text', `${folder}/train.py`);
  await page.contents.uploadContent(test, 'text', `${folder}/tests/test_model.py`);
  // Forced: the second project's train.py is the same, and would be answered from the cache.
  return daemonApi<Run>(request, 'POST', 'runs', {
    project: `${root_dir}/${folder}`,
    entry_point: 'train.py',
    force: true
  });
}

/** Wait until the run succeeded and the model's version of it has a finished gate report. */
async function finishedVersion(
  request: APIRequestContext,
  run: Run,
  model: string
): Promise<Version> {
  await expect
    .poll(async () => (await daemonApi<Run>(request, 'GET', `runs/${run.id}`)).status, {
      timeout: LONG,
      intervals: [1000]
    })
    .toBe('succeeded');
  let found: Version | undefined;
  await expect
    .poll(
      async () => {
        const response = await request.get(`mlops/api/models/${model}`);
        if (!response.ok()) {
          return `GET models/${model}: ${response.status()}`;
        }
        const detail = (await response.json()) as Detail;
        found = detail.versions.find(v => v.run_id === run.id);
        return found?.gate?.status ?? 'no report';
      },
      { timeout: LONG, intervals: [1000] }
    )
    .toMatch(/^(passed|failed)$/);
  return found as Version;
}

async function openModel(panel: Locator, model: string): Promise<Locator> {
  const section = panel.getByRole('region', { name: 'Models', exact: true });
  await section.getByRole('button', { name: 'Refresh', exact: true }).click();
  const table = section.getByRole('table', { name: 'Models', exact: true });
  await table.getByRole('rowheader', { name: model, exact: true }).click();
  const detail = section.getByRole('region', { name: 'Model detail', exact: true });
  await expect(detail.getByRole('heading', { name: model, exact: true })).toBeVisible();
  return detail;
}

test('gate checks show with their lessons; promote, cut out, restore; a refusal and an override', async ({
  page,
  request,
  tmpPath
}, testInfo) => {
  test.setTimeout(4 * LONG);
  const model = `ui-iris-${Date.now().toString(36)}`;
  const good = await startRun(page, request, `${tmpPath}/good`, model, PASSING_TEST);
  const v1 = await finishedVersion(request, good, model);
  expect(v1.version).toBe(1);
  expect(v1.gate?.status).toBe('passed');

  const panel = await openPanel(page);
  // Who the Jupyter server says the browser is (Galata mocks the page's own /api/me,
  // so ask with the page's cookies, outside its routes): the daemon records this name.
  const me = await page.request.get('api/me');
  expect(me.ok()).toBe(true);
  const username = ((await me.json()) as { identity: { username: string } }).identity.username;
  expect(username).not.toBe('');
  let detail = await openModel(panel, model);

  // The gate report: every check with its status and lesson; the evidence folds out.
  const checks = detail.getByRole('list', { name: 'Gate checks of version 1', exact: true });
  for (const check of v1.gate?.checks ?? []) {
    const item = checks.getByRole('listitem', { name: `Check ${check.name}`, exact: true });
    await expect(item).toContainText(check.status);
    await expect(item).toContainText(check.lesson);
  }
  const tests = checks.getByRole('listitem', { name: 'Check tests', exact: true });
  await tests.getByText('Evidence', { exact: true }).click();
  await expect(tests).toContainText('1 passed');
  await snapshot(page, testInfo, '1-gate-report', detail);

  // Promote version 1 to staging, with a reason, after the confirmation.
  await detail.getByRole('button', { name: 'Promote', exact: true }).click();
  let form = detail.getByRole('form', { name: 'Promote', exact: true });
  await form.getByLabel('Version', { exact: true }).selectOption('1');
  await form.getByLabel('Alias', { exact: true }).selectOption('staging');
  await form.getByLabel('Reason', { exact: true }).fill('gates passed; ready for QA');
  await form.getByRole('button', { name: 'Confirm promote', exact: true }).click();
  await expect(detail.getByRole('status')).toHaveText('Promoted version 1 to staging.');
  const aliases = detail.getByRole('table', { name: 'Aliases', exact: true });
  await expect(aliases.getByRole('row', { name: /staging/ })).toContainText('serving');
  const history = detail.getByRole('table', { name: 'History', exact: true });
  let latest = history.getByRole('row').nth(1);
  await expect(latest).toContainText('promote');
  await expect(latest).toContainText('gates passed; ready for QA');
  await expect(latest).toContainText(username);
  await snapshot(page, testInfo, '2-promoted', detail);

  // Cut it out: the reason is required; the alias is marked cut out.
  await detail.getByRole('button', { name: 'Cut out', exact: true }).click();
  form = detail.getByRole('form', { name: 'Cut out', exact: true });
  await form.getByLabel('Alias', { exact: true }).selectOption('staging');
  const confirmCut = form.getByRole('button', { name: 'Confirm cut out', exact: true });
  await expect(confirmCut).toBeDisabled();
  await form.getByLabel('Reason', { exact: true }).fill('wrong answers on new data');
  await confirmCut.click();
  await expect(aliases.getByRole('row', { name: /staging/ })).toContainText(
    'cut out: wrong answers on new data'
  );
  await expect(history.getByRole('row').nth(1)).toContainText('cut out');
  await snapshot(page, testInfo, '3-cut-out', detail);
  await detail.getByRole('button', { name: 'Back to models', exact: true }).click();
  const row = panel
    .getByRole('table', { name: 'Models', exact: true })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: model, exact: true }) });
  await expect(row).toContainText('staging v1 cut out');

  // Restore it.
  detail = await openModel(panel, model);
  await detail.getByRole('button', { name: 'Restore', exact: true }).click();
  form = detail.getByRole('form', { name: 'Restore', exact: true });
  await form.getByRole('button', { name: 'Confirm restore', exact: true }).click();
  await expect(detail.getByRole('status')).toHaveText('Restored every alias.');
  await expect(aliases.getByRole('row', { name: /staging/ })).toContainText('serving');
  await expect(history.getByRole('row').nth(1)).toContainText('restore');

  // Version 2: its tests fail, so promoting it is refused with the daemon's message ...
  const bad = await startRun(page, request, `${tmpPath}/bad`, model, FAILING_TEST);
  const v2 = await finishedVersion(request, bad, model);
  expect(v2.version).toBe(2);
  expect(v2.gate?.status).toBe('failed');
  await detail.getByRole('button', { name: 'Refresh', exact: true }).click();
  const v2Checks = detail.getByRole('list', { name: 'Gate checks of version 2', exact: true });
  await expect(v2Checks.getByRole('listitem', { name: 'Check tests', exact: true })).toContainText(
    'failed'
  );
  await detail.getByRole('button', { name: 'Promote', exact: true }).click();
  form = detail.getByRole('form', { name: 'Promote', exact: true });
  await form.getByLabel('Version', { exact: true }).selectOption('2');
  await form.getByLabel('Alias', { exact: true }).selectOption('production');
  await form.getByRole('button', { name: 'Confirm promote', exact: true }).click();
  const refusal = form.getByRole('alert');
  await expect(refusal).toContainText('tests');
  await expect(refusal).toContainText(/override/i);
  const refused = await request.post(`mlops/api/models/${model}/promote`, {
    data: JSON.stringify({ version: 2, alias: 'production' }),
    headers: { 'Content-Type': 'application/json' }
  });
  expect(refused.status()).toBe(409);
  await expect(refusal).toHaveText(((await refused.json()) as { message: string }).message);
  await snapshot(page, testInfo, '4-refused', form);

  // ... and goes through with an override and a reason, marked in the history.
  await form.getByRole('checkbox', { name: 'Override failed checks', exact: true }).check();
  const confirmPromote = form.getByRole('button', { name: 'Confirm promote', exact: true });
  await expect(confirmPromote).toBeDisabled();
  await form.getByLabel('Reason', { exact: true }).fill('the failing test is known to be wrong');
  await confirmPromote.click();
  await expect(detail.getByRole('status')).toHaveText(
    'Promoted version 2 to production (override).'
  );
  latest = history.getByRole('row').nth(1);
  await expect(latest).toContainText('promote override');
  await expect(latest).toContainText('the failing test is known to be wrong');
  const recorded = await daemonApi<Detail>(request, 'GET', `models/${model}`);
  expect(recorded.events[0]).toMatchObject({
    override: true,
    reason: 'the failing test is known to be wrong',
    actor: username
  });
  await snapshot(page, testInfo, '5-override', detail);
});
