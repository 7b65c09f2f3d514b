import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionModel } from '../model/connection';
import { installFakeServer, status } from './fakeServer';

describe('ConnectionModel', () => {
  let model: ConnectionModel | null = null;

  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    model?.dispose();
    vi.useRealTimers();
  });

  it('autostarts once per down episode and surfaces the start error', async () => {
    const server = installFakeServer({
      'GET status': { body: status({ state: 'down', daemon_version: null }) },
      'POST daemon/start': {
        status: 500,
        body: { error: 'start_failed', message: 'daemon exited: port in use' }
      }
    });
    model = new ConnectionModel({ autostart: true, pollIntervalMs: 1000 });
    await model.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST daemon/start')).toHaveLength(1);
    expect(model.error).toBe('daemon exited: port in use');
    expect(model.status?.state).toBe('down');

    // Still down over several polls: no second start, the error stays visible.
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.callsTo('GET status').length).toBeGreaterThan(2);
    expect(server.callsTo('POST daemon/start')).toHaveLength(1);
    expect(model.error).toBe('daemon exited: port in use');

    // Back up, then down again: a new episode, a new start.
    server.routes['GET status'] = { body: status() };
    await model.refresh();
    expect(model.isOk).toBe(true);
    expect(model.error).toBeNull();
    server.routes['GET status'] = { body: status({ state: 'down' }) };
    await model.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST daemon/start')).toHaveLength(2);
  });

  it('does not autostart when the setting is off, nor when starting is forbidden', async () => {
    const server = installFakeServer({
      'GET status': { body: status({ state: 'down' }) },
      'POST daemon/start': { body: status() }
    });
    model = new ConnectionModel({ autostart: false, pollIntervalMs: 1000 });
    await model.refresh();
    await vi.advanceTimersByTimeAsync(3000);
    expect(server.callsTo('POST daemon/start')).toHaveLength(0);

    server.routes['GET status'] = { body: status({ state: 'down', can_start: false }) };
    await model.refresh();
    model.configure({ autostart: true });
    await model.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST daemon/start')).toHaveLength(0);

    // Once the daemon may be started, autostart (now on) starts it.
    server.routes['GET status'] = { body: status({ state: 'down' }) };
    await model.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST daemon/start')).toHaveLength(1);
    expect(model.isOk).toBe(true);
  });

  it('the Start daemon action reports the new status and emits changed', async () => {
    installFakeServer({
      'GET status': { body: status({ state: 'down' }) },
      'POST daemon/start': { body: status() }
    });
    model = new ConnectionModel({ autostart: false, pollIntervalMs: 1000 });
    await model.refresh();
    const seen: boolean[] = [];
    model.changed.connect(m => seen.push(m.starting));
    await model.start();
    expect(seen).toEqual([true, false]);
    expect(model.isOk).toBe(true);
  });

  it('keeps an unreachable server extension as an error, with no status', async () => {
    installFakeServer({ 'GET status': { status: 404, text: 'Not Found' } });
    model = new ConnectionModel({ autostart: true, pollIntervalMs: 1000 });
    await model.refresh();
    expect(model.status).toBeNull();
    expect(model.error).toBe('Not Found');
  });
});
