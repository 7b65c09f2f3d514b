import { ServerConnection } from '@jupyterlab/services';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { artifactUrl, listRuns, submitRun } from '../api/client';
import { apiUrl, configureRequests, MlopsApiError, requestAPI } from '../api/request';
import { installFakeServer } from './fakeServer';

describe('requestAPI', () => {
  afterEach(() => configureRequests({ daemonUrl: '' }));

  it('sends JSON and parses the JSON answer', async () => {
    const server = installFakeServer({
      'POST api/runs': call => ({ status: 201, body: { id: 'r1', echo: call.body } })
    });
    const run = await submitRun({ project: '/p', entry_point: 'pkg.m:main', params: { lr: 0.1 } });
    expect(run.id).toBe('r1');
    const [call] = server.calls;
    expect(call.headers.get('Content-Type')).toBe('application/json');
    expect(call.body).toEqual({ project: '/p', entry_point: 'pkg.m:main', params: { lr: 0.1 } });
  });

  it('turns an error body into MlopsApiError with the server message', async () => {
    installFakeServer({
      'GET api/runs/nope': {
        status: 404,
        body: { error: 'not_found', message: 'no run nope' }
      }
    });
    const err = await requestAPI('api/runs/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlopsApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no run nope' });
  });

  it('keeps a plain-text error readable', async () => {
    installFakeServer({ 'GET status': { status: 502, text: 'Bad gateway' } });
    await expect(requestAPI('status')).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      message: 'Bad gateway'
    });
  });

  it('reports a network failure as status 0, code network', async () => {
    vi.spyOn(ServerConnection, 'makeRequest').mockRejectedValue(
      new ServerConnection.NetworkError(new TypeError('Failed to fetch'))
    );
    const err = await requestAPI('status').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlopsApiError);
    expect(err).toMatchObject({ status: 0, code: 'network' });
    expect((err as Error).message).toContain('Failed to fetch');
  });

  it('adds the daemon URL header once configured', async () => {
    const server = installFakeServer({ 'GET status': { body: { state: 'ok' } } });
    await requestAPI('status');
    configureRequests({ daemonUrl: 'http://127.0.0.1:9999' });
    await requestAPI('status');
    expect(server.calls[0].headers.get('X-Mlops-Daemon-Url')).toBeNull();
    expect(server.calls[1].headers.get('X-Mlops-Daemon-Url')).toBe('http://127.0.0.1:9999');
  });

  it('encodes the query and leaves out undefined values', async () => {
    const server = installFakeServer({
      'GET api/runs': { body: { runs: [], total: 0, page: 2, per_page: 10 } }
    });
    await listRuns({ page: 2, per_page: 10, sort: 'metrics.val loss', order: 'asc' });
    const { query } = server.calls[0];
    expect(query.get('page')).toBe('2');
    expect(query.get('sort')).toBe('metrics.val loss');
    expect(query.has('status')).toBe(false);
    // No cache-busting argument: the daemon rejects unknown query arguments.
    expect([...query.keys()].sort()).toEqual(['order', 'page', 'per_page', 'sort']);
    expect(server.calls[0].cache).toBe('no-cache');
  });

  it('builds artifact download links under mlops/api', () => {
    const url = artifactUrl('run 1', 'plots/loss curve.png');
    expect(url).toMatch(/\/mlops\/api\/runs\/run%201\/artifacts\/plots\/loss%20curve\.png$/);
    expect(apiUrl('api/runs', { page: 1, status: undefined })).toMatch(/\/mlops\/api\/runs\?page=1$/);
  });

  it('puts the daemonUrl setting in the query of links, which cannot send headers', () => {
    configureRequests({ daemonUrl: 'http://127.0.0.1:9999' });
    try {
      const url = new URL(artifactUrl('r1', 'model.bin'), 'http://lab');
      expect(url.searchParams.get('mlops_daemon_url')).toBe('http://127.0.0.1:9999');
    } finally {
      configureRequests({ daemonUrl: '' });
    }
    expect(artifactUrl('r1', 'model.bin')).not.toContain('mlops_daemon_url');
  });
});
