/**
 * The one module that talks HTTP: every call goes to the server extension under
 * `<baseUrl>/mlops/` through `ServerConnection.makeRequest` (which adds the XSRF token and
 * the server's authentication).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A failed call: `status` is the HTTP status (0 when the server was not reached). */
export class MlopsApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'MlopsApiError';
    this.status = status;
    this.code = code;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestInit {
  method?: string;
  body?: unknown;
  query?: Query;
}

const DAEMON_URL_HEADER = 'X-Mlops-Daemon-Url';
const DAEMON_URL_QUERY = 'mlops_daemon_url';

let daemonUrl = '';
let settings: ServerConnection.ISettings | null = null;

function serverSettings(): ServerConnection.ISettings {
  if (settings === null) {
    settings = ServerConnection.makeSettings();
  }
  return settings;
}

/** Set options applied to every later call (the `daemonUrl` setting; '' means discover). */
export function configureRequests(opts: { daemonUrl?: string }): void {
  if (opts.daemonUrl !== undefined) {
    daemonUrl = opts.daemonUrl.trim();
  }
}

function queryString(query?: Query): string {
  if (!query) {
    return '';
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) {
      params.append(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The absolute URL of `path` under `<baseUrl>/mlops/`, e.g. for a download link. */
export function apiUrl(path: string, query?: Query): string {
  const s = serverSettings();
  // A link sends no headers: the daemonUrl setting travels in the query instead.
  const withDaemon = daemonUrl ? { ...query, [DAEMON_URL_QUERY]: daemonUrl } : query;
  const url = URLExt.join(s.baseUrl, 'mlops', path) + queryString(withDaemon);
  if (s.appendToken && s.token) {
    return url + (url.includes('?') ? '&' : '?') + `token=${encodeURIComponent(s.token)}`;
  }
  return url;
}

async function errorFromResponse(response: Response): Promise<MlopsApiError> {
  const text = await response.text().catch(() => '');
  let code = `http_${response.status}`;
  let message = text.trim() || response.statusText || `HTTP ${response.status}`;
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object') {
      const { error, message: msg, reason } = body as Record<string, unknown>;
      if (typeof error === 'string' && error) {
        code = error;
      }
      if (typeof msg === 'string' && msg) {
        message = msg;
      } else if (typeof reason === 'string' && reason) {
        message = reason;
      }
    }
  } catch {
    // Not JSON: the text itself (for example an HTML error page) is the message.
    if (message.startsWith('<')) {
      message = `${response.status} ${response.statusText}`.trim();
    }
  }
  return new MlopsApiError(response.status, code, message);
}

/**
 * Call `path` (relative to `<baseUrl>/mlops/`, e.g. 'api/runs', 'status', 'daemon/start')
 * with an optional JSON body; resolve to the parsed JSON answer.
 */
export async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const s = serverSettings();
  const url = URLExt.join(s.baseUrl, 'mlops', path) + queryString(init.query);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (daemonUrl) {
    headers[DAEMON_URL_HEADER] = daemonUrl;
  }
  // 'no-cache', not JupyterLab's default 'no-store': for 'no-store' makeRequest appends a
  // cache-busting `?<timestamp>` query argument, which the daemon rejects as unknown.
  const request: globalThis.RequestInit = {
    method: init.method ?? 'GET',
    headers,
    cache: 'no-cache'
  };
  if (init.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    request.body = JSON.stringify(init.body);
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, request, s);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MlopsApiError(0, 'network', `Cannot reach the Jupyter server: ${reason}`);
  }
  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  const text = await response.text();
  if (!text) {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new MlopsApiError(response.status, 'bad_response', `${path}: the answer is not JSON`);
  }
}

/** A one-line message for any error (API errors carry the server's message). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}
