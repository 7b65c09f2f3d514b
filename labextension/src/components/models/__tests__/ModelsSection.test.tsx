import * as React from 'react';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installFakeServer, type FakeServer } from '../../../__tests__/fakeServer';
import { ModelsModel } from '../../../model/models';
import {
  aliasOut,
  FakeRegistry,
  gateCheck,
  gateReport,
  modelVersion,
  OVERRIDE
} from '../../../model/__tests__/modelsFixtures';
import { ModelsSection } from '../ModelsSection';

/** Let the fake server answer and React render. */
async function settle(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise(resolve => setTimeout(resolve, 0));
    }
  });
}

/** Type `value` into the field labelled `label` in `container`. */
function type(container: HTMLElement, label: string, value: string): void {
  fireEvent.change(within(container).getByLabelText(label), { target: { value } });
}

async function click(element: HTMLElement): Promise<void> {
  fireEvent.click(element);
  await settle();
}

const ACCURACY = gateCheck({
  name: 'metric:accuracy',
  kind: 'metric',
  measured: '0.97',
  threshold: '>= 0.9',
  evidence: 'accuracy logged at step 3: 0.97',
  lesson: 'A metric floor stops a worse model from replacing a good one.'
});
const FAILED_TESTS = gateCheck({
  status: 'failed',
  measured: '1 failed, 2 passed',
  evidence: 'FAILED tests/test_train.py::test_fit - assert 0.4 > 0.9'
});

describe('ModelsSection', () => {
  let registry: FakeRegistry;
  let server: FakeServer;
  let model: ModelsModel;

  beforeEach(() => {
    registry = new FakeRegistry([
      modelVersion(1, gateReport('passed', [gateCheck(), ACCURACY])),
      modelVersion(
        2,
        gateReport('failed', [FAILED_TESTS, { ...ACCURACY, required: false, status: 'failed' }])
      )
    ]);
    server = installFakeServer(registry.routes());
    model = new ModelsModel({ pollIntervalMs: 1000 });
  });

  afterEach(() => {
    cleanup();
    model.dispose();
  });

  async function openDetail(): Promise<HTMLElement> {
    render(<ModelsSection model={model} />);
    await act(async () => {
      await model.refresh();
    });
    const table = screen.getByRole('table', { name: 'Models' });
    const row = within(table).getByRole('row', { name: /iris/ });
    await click(within(row).getByRole('rowheader', { name: 'iris' }));
    return screen.getByRole('region', { name: 'Model detail' });
  }

  function confirm(region: HTMLElement, name: string): HTMLButtonElement {
    return within(region).getByRole('button', { name }) as HTMLButtonElement;
  }

  it('lists models with their latest version and aliases, a cut-out one marked', async () => {
    registry.aliases = [aliasOut('staging', 1), aliasOut('production', 1, 'drift')];
    render(<ModelsSection model={model} />);
    await act(async () => {
      await model.refresh();
    });
    const table = screen.getByRole('table', { name: 'Models' });
    const row = within(table).getByRole('row', { name: /iris/ });
    expect(row.textContent).toContain('v2');
    const aliases = within(row).getByRole('list', { name: 'Aliases of iris' });
    const items = within(aliases).getAllByRole('listitem');
    expect(items.map(i => i.textContent)).toEqual(['staging v1', 'production v1 cut out']);
    expect(items[1].getAttribute('title')).toBe('cut out: drift');
  });

  it('shows each version gate checks: status, measured/threshold, lesson, evidence', async () => {
    const region = await openDetail();
    expect(within(region).getByRole('heading', { name: 'iris' })).toBeTruthy();
    const v2 = within(region).getByRole('region', { name: 'Version 2' });
    expect(v2.textContent).toContain('Gates: failed (tests)');
    const checks = within(v2).getByRole('list', { name: 'Gate checks of version 2' });
    const tests = within(checks).getByRole('listitem', { name: 'Check tests' });
    expect(tests.textContent).toContain('failed');
    expect(tests.textContent).toContain('1 failed, 2 passed (threshold all pass)');
    expect(tests.textContent).toContain('Tests catch a broken training step');
    const evidence = within(tests).getByText('Evidence').closest('details')!;
    expect(evidence.open).toBe(false);
    expect(evidence.textContent).toContain('assert 0.4 > 0.9');
    const advisory = within(checks).getByRole('listitem', { name: 'Check metric:accuracy' });
    expect(advisory.textContent).toContain('failed (advisory)');
    const v1 = within(region).getByRole('region', { name: 'Version 1' });
    expect(v1.textContent).toContain('Gates: passed');
    expect(v1.textContent).toContain('0.97 (threshold >= 0.9)');
    const history = within(region).getByRole('table', { name: 'History' });
    expect(history.textContent).toContain('No changes yet.');
    // No alias yet: nothing to roll back, cut out or restore.
    expect(confirm(region, 'Roll back').disabled).toBe(true);
    expect(confirm(region, 'Cut out').disabled).toBe(true);
    expect(confirm(region, 'Restore').disabled).toBe(true);
  });

  it('promotes after the confirmation, with the reason, and shows the event', async () => {
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Promote' }));
    const form = within(region).getByRole('form', { name: 'Promote' });
    type(form, 'Version', '1');
    type(form, 'Alias', 'staging');
    type(form, 'Reason', 'passes all gates');
    expect(server.callsTo('POST api/models/iris/promote')).toHaveLength(0);
    await click(within(form).getByRole('button', { name: 'Confirm promote' }));
    expect(server.callsTo('POST api/models/iris/promote')[0].body).toEqual({
      version: 1,
      alias: 'staging',
      override: false,
      reason: 'passes all gates'
    });
    expect(within(region).queryByRole('form', { name: 'Promote' })).toBeNull();
    expect(within(region).getByRole('status').textContent).toBe('Promoted version 1 to staging.');
    const aliases = within(region).getByRole('table', { name: 'Aliases' });
    expect(within(aliases).getByRole('row', { name: /staging/ }).textContent).toContain('serving');
    const history = within(region).getByRole('table', { name: 'History' });
    const event = within(history).getAllByRole('row')[1];
    expect(event.textContent).toContain('ada');
    expect(event.textContent).toContain('promote');
    expect(event.textContent).toContain('passes all gates');
    expect(event.textContent).not.toContain('override');
  });

  it("shows the daemon's refusal inline; an override needs a reason and is marked", async () => {
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Promote' }));
    const form = within(region).getByRole('form', { name: 'Promote' });
    expect((within(form).getByLabelText('Version') as HTMLSelectElement).value).toBe('2');
    type(form, 'Alias', 'production');
    expect(form.textContent).toContain('Required checks of version 2 failed (tests)');
    await click(within(form).getByRole('button', { name: 'Confirm promote' }));
    expect(within(form).getByRole('alert').textContent).toBe(
      `version 2 of iris failed required checks: tests; ${OVERRIDE}`
    );
    fireEvent.click(within(form).getByRole('checkbox', { name: 'Override failed checks' }));
    const button = confirm(form, 'Confirm promote');
    expect(button.disabled).toBe(true);
    expect(form.textContent).toContain('An override needs a reason');
    type(form, 'Reason', 'flaky test, fixed in #12');
    expect(button.disabled).toBe(false);
    await click(button);
    expect(server.callsTo('POST api/models/iris/promote')[1].body).toMatchObject({
      override: true,
      reason: 'flaky test, fixed in #12'
    });
    const history = within(region).getByRole('table', { name: 'History' });
    expect(within(history).getAllByRole('row')[1].textContent).toContain('promote override');
  });

  it('promotes to a custom alias', async () => {
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Promote' }));
    const form = within(region).getByRole('form', { name: 'Promote' });
    type(form, 'Version', '1');
    type(form, 'Alias', '__custom__');
    const button = confirm(form, 'Confirm promote');
    expect(button.disabled).toBe(true);
    type(form, 'Custom alias', 'Prod EU');
    expect(button.disabled).toBe(true);
    type(form, 'Custom alias', 'production-eu');
    await click(button);
    const posted = server.callsTo('POST api/models/iris/promote')[0].body;
    expect(posted).toMatchObject({ alias: 'production-eu' });
  });

  it('cuts out with a required reason and a warning, then restores', async () => {
    registry.aliases = [aliasOut('staging', 1)];
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Cut out' }));
    const form = within(region).getByRole('form', { name: 'Cut out' });
    expect(form.className).toContain('jp-mlops-models-form-danger');
    expect(form.textContent).toContain('stops serving at once');
    type(form, 'Alias', 'staging');
    const button = confirm(form, 'Confirm cut out');
    expect(button.disabled).toBe(true);
    type(form, 'Reason', 'wrong answers for class 2');
    await click(button);
    expect(server.callsTo('POST api/models/iris/cutout')[0].body).toEqual({
      alias: 'staging',
      reason: 'wrong answers for class 2'
    });
    const aliases = within(region).getByRole('table', { name: 'Aliases' });
    expect(aliases.textContent).toContain('cut out: wrong answers for class 2');
    expect(confirm(region, 'Cut out').disabled).toBe(true);

    await click(within(region).getByRole('button', { name: 'Restore' }));
    const restore = within(region).getByRole('form', { name: 'Restore' });
    await click(within(restore).getByRole('button', { name: 'Confirm restore' }));
    const restored = server.callsTo('POST api/models/iris/restore')[0].body;
    expect(restored).toEqual({ alias: null, reason: null });
    expect(aliases.textContent).not.toContain('cut out');
    expect(within(region).getByRole('status').textContent).toBe('Restored every alias.');
  });

  it('rolls back, showing a refusal when there is nothing to go back to', async () => {
    registry.aliases = [aliasOut('staging', 1)];
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Roll back' }));
    const form = within(region).getByRole('form', { name: 'Roll back' });
    await click(within(form).getByRole('button', { name: 'Confirm roll back' }));
    expect(within(form).getByRole('alert').textContent).toBe(
      'staging has no earlier version to roll back to'
    );
    await click(within(form).getByRole('button', { name: 'Cancel' }));
    expect(within(region).queryByRole('form', { name: 'Roll back' })).toBeNull();
    expect(within(region).queryByRole('alert')).toBeNull();
  });

  it('goes back to the list', async () => {
    const region = await openDetail();
    await click(within(region).getByRole('button', { name: 'Back to models' }));
    expect(screen.queryByRole('region', { name: 'Model detail' })).toBeNull();
    expect(screen.getByRole('table', { name: 'Models' })).toBeTruthy();
  });
});
