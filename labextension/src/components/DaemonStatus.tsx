/** The "Daemon" section: connection state, a "Start daemon" button when it is down. */
import * as React from 'react';
import type { ConnectionModel } from '../model/connection';
import { useSignal } from './useSignal';

export interface DaemonStatusProps {
  model: ConnectionModel;
}

function statusText(model: ConnectionModel): { text: string; tone: string } {
  const status = model.status;
  if (model.starting) {
    return { text: 'Daemon not running: starting…', tone: 'busy' };
  }
  if (!status) {
    return {
      text: model.error ? 'Server extension unreachable' : 'Checking the daemon…',
      tone: model.error ? 'error' : 'busy'
    };
  }
  switch (status.state) {
    case 'ok':
      return { text: `Connected (daemon ${status.daemon_version ?? '?'})`, tone: 'ok' };
    case 'mismatch':
      return { text: 'Version mismatch', tone: 'error' };
    default:
      return { text: 'Daemon not running', tone: 'warn' };
  }
}

export function DaemonStatus({ model }: DaemonStatusProps): JSX.Element {
  useSignal(model.changed);
  const status = model.status;
  const { text, tone } = statusText(model);
  const showStart = status?.state === 'down';
  const detail = status && status.state !== 'ok' ? status.message : '';
  return (
    <div className="jp-mlops-daemon">
      <div
        role="status"
        aria-label="Daemon status"
        className={`jp-mlops-daemon-status jp-mlops-tone-${tone}`}
      >
        <span className="jp-mlops-dot" aria-hidden="true" />
        <span>{text}</span>
        {detail ? <span className="jp-mlops-muted"> — {detail}</span> : null}
      </div>
      {showStart ? (
        <button
          type="button"
          className="jp-mlops-button jp-mlops-button-primary"
          onClick={() => void model.start()}
          disabled={model.starting || !status?.can_start}
          title={status?.can_start ? undefined : 'The server configuration forbids starting it'}
        >
          Start daemon
        </button>
      ) : null}
      {model.error ? (
        <div role="alert" className="jp-mlops-error">
          {model.error}
        </div>
      ) : null}
    </div>
  );
}
