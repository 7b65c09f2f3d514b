import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakeServer, type FakeServer } from '../../__tests__/fakeServer';
import { ModelsModel, validateAction } from '../models';
import { FakeRegistry, gateCheck, gateReport, modelVersion } from './modelsFixtures';

const FAILED_TESTS = gateCheck({
  status: 'failed',
  measured: '1 failed',
  evidence: 'assert 0 == 1'
});

function promote(version: number, alias: string, reason: string, override: boolean) {
  return { version, alias, reason, override };
}

describe('ModelsModel', () => {
  let registry: FakeRegistry;
  let server: FakeServer;
  let model: ModelsModel;

  beforeEach(() => {
    vi.useFakeTimers();
    registry = new FakeRegistry([
      modelVersion(1, gateReport('passed', [gateCheck()])),
      modelVersion(2, gateReport('failed', [FAILED_TESTS]))
    ]);
    server = installFakeServer(registry.routes());
    model = new ModelsModel({ pollIntervalMs: 1000 });
  });

  afterEach(() => {
    model.dispose();
    vi.useRealTimers();
  });

  async function openIris(): Promise<void> {
    model.openModel('iris');
    await vi.advanceTimersByTimeAsync(0);
  }

  it('reads the list, then one model with its versions newest first', async () => {
    await model.refresh();
    expect(model.loaded).toBe(true);
    expect(model.models.map(m => [m.name, m.latest_version])).toEqual([['iris', 2]]);
    await openIris();
    expect(model.view).toBe('detail');
    expect(model.detail!.versions.map(v => v.version)).toEqual([2, 1]);
    expect(server.callsTo('GET api/models/iris')).toHaveLength(1);
  });

  it('polls the open model while a gate report is pending, then stops', async () => {
    registry.versions[1] = modelVersion(2, gateReport('pending', []));
    model.setActive(true);
    await openIris();
    expect(model.gatesPending).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.callsTo('GET api/models/iris')).toHaveLength(2);
    registry.versions[1] = modelVersion(2, gateReport('passed', [gateCheck()]));
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.gatesPending).toBe(false);
    expect(model.detail!.versions[0].gate!.checks[0].name).toBe('tests');
    const calls = server.callsTo('GET api/models/iris').length;
    await vi.advanceTimersByTimeAsync(10000);
    expect(server.callsTo('GET api/models/iris')).toHaveLength(calls);
  });

  it('reads serving statistics with the detail and does without them when they fail', async () => {
    const stats = {
      model: 'iris',
      alias: 'staging',
      count: 7,
      errors: 1,
      p50_ms: 1.5,
      p99_ms: 4,
      window: 6
    };
    server.routes['GET api/models/iris/serving'] = { body: { model: 'iris', aliases: [stats] } };
    await openIris();
    expect(model.serving?.aliases).toEqual([stats]);
    delete server.routes['GET api/models/iris/serving'];
    await model.refreshDetail();
    expect(model.serving).toBeNull();
    expect(model.detail?.name).toBe('iris');
    expect(model.detailError).toBeNull();
  });

  it('does not poll while the panel is hidden', async () => {
    registry.versions[1] = modelVersion(2, gateReport('pending', []));
    await openIris(); // never activated
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.callsTo('GET api/models/iris')).toHaveLength(1);
    model.setActive(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('GET api/models/iris')).toHaveLength(2);
  });

  it('polls the list slowly while it is shown and the panel visible', async () => {
    model.setActive(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('GET api/models')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(server.callsTo('GET api/models')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.callsTo('GET api/models')).toHaveLength(2);
    model.setActive(false);
    await vi.advanceTimersByTimeAsync(20000);
    expect(server.callsTo('GET api/models')).toHaveLength(2);
  });

  it('promotes: posts the request, shows the new detail and a notice', async () => {
    await openIris();
    const error = await model.promote(promote(1, 'staging', ' first ', false));
    expect(error).toBeNull();
    expect(server.callsTo('POST api/models/iris/promote')[0].body).toEqual({
      version: 1,
      alias: 'staging',
      override: false,
      reason: 'first'
    });
    expect(model.detail!.aliases.map(a => [a.alias, a.version])).toEqual([['staging', 1]]);
    const event = model.detail!.events[0];
    expect(event).toMatchObject({ action: 'promote', version: 1, reason: 'first' });
    expect(model.notice).toBe('Promoted version 1 to staging.');
    expect(model.actionError).toBeNull();
    expect(model.pending).toBeNull();
  });

  it("keeps the daemon's refusal as a message, never an exception", async () => {
    await openIris();
    const error = await model.promote(promote(2, 'production', '', false));
    expect(error).toContain('failed required checks: tests');
    expect(model.actionError).toEqual({ action: 'promote', message: error });
    expect(model.detail!.aliases).toEqual([]);
    // With an override and a reason it goes through, marked as an override.
    const ok = await model.promote(promote(2, 'production', 'hotfix', true));
    expect(ok).toBeNull();
    expect(model.actionError).toBeNull();
    expect(model.detail!.events[0]).toMatchObject({ override: true, reason: 'hotfix' });
    expect(model.notice).toBe('Promoted version 2 to production (override).');
  });

  it('refuses an override without a reason and a cut-out without one, before asking', async () => {
    await openIris();
    const override = await model.promote(promote(2, 'staging', '  ', true));
    expect(override).toMatch(/override needs a reason/);
    const cut = await model.cutout({ alias: null, reason: '' });
    expect(cut).toMatch(/cut-out needs a reason/);
    expect(model.actionError?.action).toBe('cutout');
    const bad = await model.promote({ version: 1, alias: 'Prod EU', reason: '', override: false });
    expect(bad).toMatch(/not an alias/);
    expect(server.calls.filter(c => c.method === 'POST')).toHaveLength(0);
  });

  it('cuts out every alias, restores one, rolls back', async () => {
    await openIris();
    await model.promote(promote(1, 'staging', '', false));
    await model.promote(promote(2, 'staging', 'try v2', true));
    expect(await model.cutout({ alias: null, reason: 'bad answers' })).toBeNull();
    expect(server.callsTo('POST api/models/iris/cutout')[0].body).toEqual({
      alias: null,
      reason: 'bad answers'
    });
    const cut = model.detail!.aliases[0];
    expect(cut).toMatchObject({ cut_out: true, cut_out_reason: 'bad answers' });
    expect(model.notice).toBe('Cut out every alias.');
    expect(await model.restore({ alias: 'staging', reason: '' })).toBeNull();
    expect(server.callsTo('POST api/models/iris/restore')[0].body).toEqual({
      alias: 'staging',
      reason: null
    });
    expect(model.detail!.aliases[0].cut_out).toBe(false);
    expect(await model.rollback({ alias: 'staging', reason: 'v2 regressed' })).toBeNull();
    expect(model.detail!.aliases[0].version).toBe(1);
    const again = await model.restore({ alias: 'staging', reason: '' });
    expect(again).toBe('nothing to restore');
  });

  it('stops polling a model the daemon does not know, with its message', async () => {
    model.setActive(true);
    model.openModel('ghost');
    await vi.advanceTimersByTimeAsync(0);
    expect(model.detailError).toBe('no route GET api/models/ghost');
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.callsTo('GET api/models/ghost')).toHaveLength(1);
    model.backToModels();
    expect(model.view).toBe('list');
    expect(model.detailError).toBeNull();
  });
});

describe('validateAction', () => {
  it('accepts standard and custom aliases, refuses others', () => {
    const input = { version: 1, reason: '', override: false };
    expect(validateAction('promote', { ...input, alias: 'production-eu' })).toBeNull();
    expect(validateAction('promote', { ...input, alias: '' })).toBe('Choose an alias.');
    expect(validateAction('promote', { ...input, alias: '1st' })).toMatch(/not an alias/);
    expect(validateAction('restore', { alias: null, reason: '' })).toBeNull();
    expect(validateAction('rollback', { alias: null, reason: '' })).toBe('Choose an alias.');
  });
});
