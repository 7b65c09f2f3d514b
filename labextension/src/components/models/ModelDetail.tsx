/**
 * One model: the alias actions, its aliases (with the cut-out marker and reason), its
 * versions newest first with each one's gate report, and the history of alias changes
 * (who, when, what, which version, why; overrides marked).
 */
import * as React from 'react';
import type {
  AliasOut,
  ModelDetail as Detail,
  ModelEventOut,
  ModelVersionOut,
  ServingStats
} from '../../api/types';
import type { ModelsModel } from '../../model/models';
import { formatLocalTime, formatRelativeTime, shortId, shortSha } from '../runs/format';
import { useSignal } from '../useSignal';
import { GateReport } from './GateReport';
import { ModelActions } from './ModelActions';

const ACTION_WORDS: Record<ModelEventOut['action'], string> = {
  promote: 'promote',
  rollback: 'roll back',
  cutout: 'cut out',
  restore: 'restore'
};

function servedText(stats: ServingStats | undefined): string {
  if (!stats || stats.count === 0) {
    return 'not yet';
  }
  const ms = (v: number | null | undefined): string => (v == null ? '–' : `${v.toFixed(1)} ms`);
  const errors = stats.errors ? `, ${stats.errors} refused` : '';
  return `${stats.count} requests${errors}; p50 ${ms(stats.p50_ms)}, p99 ${ms(stats.p99_ms)}`;
}

function AliasesTable({
  aliases,
  now,
  serving
}: {
  aliases: AliasOut[];
  now: number;
  serving: ServingStats[];
}): JSX.Element {
  return (
    <table aria-label="Aliases" className="jp-mlops-runs-table">
      <thead>
        <tr>
          <th scope="col">Alias</th>
          <th scope="col">Version</th>
          <th scope="col">State</th>
          <th scope="col">Changed</th>
          <th scope="col">Served (since the daemon started)</th>
        </tr>
      </thead>
      <tbody>
        {aliases.length ? (
          aliases.map(a => (
            <tr
              key={a.alias}
              className={a.cut_out ? 'jp-mlops-models-alias-row-cutout' : undefined}
            >
              <th scope="row">{a.alias}</th>
              <td>{`v${a.version}`}</td>
              <td>
                {a.cut_out ? (
                  <span className="jp-mlops-models-cutout-marker">
                    {`cut out${a.cut_out_reason ? `: ${a.cut_out_reason}` : ''}`}
                  </span>
                ) : (
                  'serving'
                )}
              </td>
              <td title={formatLocalTime(a.updated_at)}>{formatRelativeTime(a.updated_at, now)}</td>
              <td>{servedText(serving.find(s => s.alias === a.alias))}</td>
            </tr>
          ))
        ) : (
          <tr>
            <td colSpan={5} className="jp-mlops-runs-empty">
              No aliases yet: promote a version to dev, staging or production.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function VersionItem({ v, now }: { v: ModelVersionOut; now: number }): JSX.Element {
  const aliases = v.aliases ?? [];
  return (
    <section aria-label={`Version ${v.version}`} className="jp-mlops-models-version">
      <h5 className="jp-mlops-models-version-title">
        {`Version ${v.version}`}
        {aliases.map(a => (
          <span key={a} className="jp-mlops-chip jp-mlops-models-version-alias">
            {a}
          </span>
        ))}
      </h5>
      <p className="jp-mlops-runs-muted">
        {`${v.flavor} ${v.task} · run ${shortId(v.run_id)} · onnx ${shortSha(v.onnx_sha256)} · `}
        <span title={formatLocalTime(v.created_at)}>{formatRelativeTime(v.created_at, now)}</span>
        {v.parity
          ? ` · parity ${v.parity.passed ? 'ok' : 'FAILED'} (${v.parity.rows} rows)`
          : ''}
      </p>
      <GateReport report={v.gate} version={v.version} />
    </section>
  );
}

function EventsTable({ events }: { events: ModelEventOut[] }): JSX.Element {
  return (
    <table aria-label="History" className="jp-mlops-runs-table jp-mlops-models-history">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Action</th>
          <th scope="col">Alias</th>
          <th scope="col">Version</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {events.length ? (
          events.map(e => (
            <tr key={e.id} className={e.override ? 'jp-mlops-models-event-override' : undefined}>
              <td title={formatLocalTime(e.at)}>{formatLocalTime(e.at)}</td>
              <td>{e.actor}</td>
              <td>
                {ACTION_WORDS[e.action]}
                {e.override ? (
                  <span className="jp-mlops-models-override-marker"> override</span>
                ) : null}
              </td>
              <td>{e.alias ?? 'all'}</td>
              <td>
                {e.version !== null && e.version !== undefined ? `v${e.version}` : '—'}
                {e.previous_version !== null &&
                e.previous_version !== undefined &&
                e.previous_version !== e.version ? (
                  <span className="jp-mlops-runs-muted">{` (was v${e.previous_version})`}</span>
                ) : null}
              </td>
              <td className="jp-mlops-models-reason">{e.reason ?? '—'}</td>
            </tr>
          ))
        ) : (
          <tr>
            <td colSpan={6} className="jp-mlops-runs-empty">
              No changes yet.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function Body({ model, detail }: { model: ModelsModel; detail: Detail }): JSX.Element {
  const now = Date.now();
  return (
    <>
      <ModelActions model={model} detail={detail} />
      <h4>Aliases</h4>
      <div className="jp-mlops-runs-table-wrap">
        <AliasesTable
          aliases={detail.aliases}
          now={now}
          serving={model.serving?.aliases ?? []}
        />
      </div>
      <h4>
        Versions
        {model.gatesPending ? <span className="jp-mlops-runs-live"> (gates running)</span> : null}
      </h4>
      <div className="jp-mlops-models-versions">
        {detail.versions.map(v => (
          <VersionItem key={v.id} v={v} now={now} />
        ))}
      </div>
      <h4>History</h4>
      <div className="jp-mlops-runs-table-wrap">
        <EventsTable events={detail.events} />
      </div>
    </>
  );
}

export function ModelDetail({ model }: { model: ModelsModel }): JSX.Element {
  useSignal(model.changed);
  const headingRef = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    headingRef.current?.focus();
  }, [model.selected]);
  const detail = model.detail;
  return (
    <div role="region" aria-label="Model detail" className="jp-mlops-runs-detail">
      <div className="jp-mlops-runs-actions">
        <button type="button" className="jp-mlops-button" onClick={() => model.backToModels()}>
          Back to models
        </button>
        <button
          type="button"
          className="jp-mlops-button"
          title="Read the model again"
          onClick={() => void model.refreshDetail()}
        >
          Refresh
        </button>
      </div>
      <h3 ref={headingRef} tabIndex={-1} className="jp-mlops-runs-heading">
        {model.selected}
      </h3>
      {model.detailError ? (
        <div role="alert" className="jp-mlops-error">
          {model.detailError}
        </div>
      ) : null}
      {detail ? (
        <Body model={model} detail={detail} />
      ) : model.detailError ? null : (
        <p className="jp-mlops-runs-muted">Loading the model…</p>
      )}
    </div>
  );
}
