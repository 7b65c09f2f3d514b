/**
 * A fake Jupyter server at the request.ts boundary: `ServerConnection.makeRequest` answers
 * from a route table, and every call is recorded.
 */
import { ServerConnection } from '@jupyterlab/services';
import { vi } from 'vitest';
import type { MlopsStatus } from '../api/types';

export interface FakeCall {
  method: string;
  /** Path under `<baseUrl>/mlops/`, without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  cache: RequestCache | undefined;
  body: unknown;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  /** Raw text body instead of JSON. */
  text?: string;
}

/** A route: `"<METHOD> <path>"` -> a reply, or a function of the call. */
export type Routes = Record<string, FakeReply | ((call: FakeCall) => FakeReply)>;

export interface FakeServer {
  calls: FakeCall[];
  routes: Routes;
  /** The calls to `"<METHOD> <path>"`. */
  callsTo(route: string): FakeCall[];
}

function toHeaders(init: RequestInit): Headers {
  return new Headers(init.headers as HeadersInit | undefined);
}

export function installFakeServer(routes: Routes): FakeServer {
  const server: FakeServer = {
    calls: [],
    routes,
    callsTo: route => server.calls.filter(call => `${call.method} ${call.path}` === route)
  };
  vi.spyOn(ServerConnection, 'makeRequest').mockImplementation(
    async (url: string, init: RequestInit) => {
      const parsed = new URL(url);
      const marker = '/mlops/';
      const path = parsed.pathname.slice(parsed.pathname.indexOf(marker) + marker.length);
      const call: FakeCall = {
        method: init.method ?? 'GET',
        path: decodeURIComponent(path),
        query: parsed.searchParams,
        headers: toHeaders(init),
        cache: init.cache,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined
      };
      server.calls.push(call);
      const route = server.routes[`${call.method} ${call.path}`];
      if (route === undefined) {
        return new Response(
          JSON.stringify({ error: 'not_found', message: `no route ${call.method} ${call.path}` }),
          { status: 404 }
        );
      }
      const reply = typeof route === 'function' ? route(call) : route;
      const text = reply.text ?? JSON.stringify(reply.body ?? {});
      return new Response(text, {
        status: reply.status ?? 200,
        headers: { 'Content-Type': reply.text ? 'text/plain' : 'application/json' }
      });
    }
  );
  return server;
}

export function status(overrides: Partial<MlopsStatus> = {}): MlopsStatus {
  return {
    state: 'ok',
    message: '',
    extension_version: '0.1.0',
    daemon_version: '0.1.0',
    daemon_url: 'http://127.0.0.1:8765',
    root_dir: '/home/me/work',
    home: '/home/me/.mlops',
    can_start: true,
    ...overrides
  };
}
