/**
 * The alias changes of the open model: Promote, Roll back, Cut out, Restore. Each button
 * opens an inline form that says what will happen and acts only on its "Confirm ..."
 * button (no modal dialog: the panel never blocks). The daemon's refusal shows in the form,
 * which stays open so the input can be corrected (e.g. an override with a reason).
 */
import * as React from 'react';
import type { ModelDetail, ModelVersionOut } from '../../api/types';
import {
  ALIAS_PATTERN,
  ModelAction,
  ModelsModel,
  STANDARD_ALIASES,
  validateAction
} from '../../model/models';

export interface ModelActionsProps {
  model: ModelsModel;
  detail: ModelDetail;
}

const LABELS: Record<ModelAction, string> = {
  promote: 'Promote',
  rollback: 'Roll back',
  cutout: 'Cut out',
  restore: 'Restore'
};

const CUSTOM = '__custom__';
const EVERY = '';

function gateWord(v: ModelVersionOut): string {
  return v.gate ? `gates ${v.gate.status}` : 'no gate report';
}

/** Why promoting `v` will be refused unless overridden, or null. */
function promoteWarning(v: ModelVersionOut | undefined): string | null {
  if (!v) {
    return null;
  }
  if (!v.gate) {
    return `Version ${v.version} has no gate report yet.`;
  }
  if (v.gate.status === 'pending') {
    return `The gates of version ${v.version} are still running.`;
  }
  if (!v.gate.passed) {
    const failed = v.gate.checks
      .filter(c => c.required && (c.status === 'failed' || c.status === 'error'))
      .map(c => c.name);
    return (
      `Required checks of version ${v.version} failed (${failed.join(', ') || 'see below'}): ` +
      'the daemon refuses the promotion unless you override it with a reason.'
    );
  }
  return null;
}

function Field(props: { label: string; children: (id: string) => JSX.Element }): JSX.Element {
  const id = React.useId();
  return (
    <div className="jp-mlops-field">
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
    </div>
  );
}

function ReasonField(props: {
  value: string;
  onChange: (v: string) => void;
  required: boolean;
}): JSX.Element {
  return (
    <Field label={props.required ? 'Reason (required)' : 'Reason'}>
      {id => (
        <textarea
          id={id}
          aria-label="Reason"
          className="jp-mlops-input"
          rows={2}
          maxLength={2000}
          required={props.required}
          value={props.value}
          onChange={event => props.onChange(event.currentTarget.value)}
        />
      )}
    </Field>
  );
}

interface FormProps extends ModelActionsProps {
  onClose: () => void;
}

/** The confirmation part every form ends with: the summary, the error, Confirm and Cancel. */
function Confirm(props: {
  model: ModelsModel;
  action: ModelAction;
  summary: string;
  blocked: string | null;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}): JSX.Element {
  const { model, action } = props;
  const error = model.actionError?.action === action ? model.actionError.message : null;
  const busy = model.pending === action;
  return (
    <div className="jp-mlops-models-confirm">
      <p className="jp-mlops-models-summary">{props.summary}</p>
      {props.blocked ? <p className="jp-mlops-runs-muted">{props.blocked}</p> : null}
      {error ? (
        <div role="alert" className="jp-mlops-error">
          {error}
        </div>
      ) : null}
      <div className="jp-mlops-runs-actions">
        <button
          type="submit"
          className={`jp-mlops-button ${
            props.danger ? 'jp-mlops-models-button-danger' : 'jp-mlops-button-primary'
          }`}
          disabled={busy || props.blocked !== null}
          onClick={event => {
            event.preventDefault();
            props.onConfirm();
          }}
        >
          {`Confirm ${LABELS[action].toLowerCase()}`}
        </button>
        <button type="button" className="jp-mlops-button" onClick={props.onClose}>
          Cancel
        </button>
        {busy ? <span className="jp-mlops-runs-muted">Working…</span> : null}
      </div>
    </div>
  );
}

function PromoteForm({ model, detail, onClose }: FormProps): JSX.Element {
  const [version, setVersion] = React.useState(detail.versions[0]?.version ?? 1);
  const [alias, setAlias] = React.useState('staging');
  const [custom, setCustom] = React.useState('');
  const [reason, setReason] = React.useState('');
  const [override, setOverride] = React.useState(false);
  const extra = detail.aliases.map(a => a.alias).filter(a => !STANDARD_ALIASES.includes(a));
  const target = alias === CUSTOM ? custom.trim() : alias;
  const chosen = detail.versions.find(v => v.version === version);
  const input = { version, alias: target, reason, override };
  let blocked = validateAction('promote', input);
  if (alias === CUSTOM && !target) {
    blocked = 'Type the custom alias.';
  }
  const warning = promoteWarning(chosen);
  return (
    <form aria-label="Promote" className="jp-mlops-form jp-mlops-models-form">
      <Field label="Version">
        {id => (
          <select
            id={id}
            className="jp-mlops-input"
            value={version}
            onChange={event => setVersion(Number(event.currentTarget.value))}
          >
            {detail.versions.map(v => (
              <option key={v.version} value={v.version}>
                {`v${v.version} (${gateWord(v)})`}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Alias">
        {id => (
          <select
            id={id}
            className="jp-mlops-input"
            value={alias}
            onChange={event => setAlias(event.currentTarget.value)}
          >
            {[...STANDARD_ALIASES, ...extra].map(a => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
            <option value={CUSTOM}>another alias…</option>
          </select>
        )}
      </Field>
      {alias === CUSTOM ? (
        <Field label="Custom alias">
          {id => (
            <input
              id={id}
              className="jp-mlops-input"
              placeholder="e.g. production-eu"
              pattern={ALIAS_PATTERN.source}
              value={custom}
              onChange={event => setCustom(event.currentTarget.value)}
            />
          )}
        </Field>
      ) : null}
      <ReasonField value={reason} onChange={setReason} required={override} />
      <label className="jp-mlops-field jp-mlops-field-check">
        <input
          type="checkbox"
          checked={override}
          onChange={event => setOverride(event.currentTarget.checked)}
        />
        Override failed checks
      </label>
      {warning && !override ? <p className="jp-mlops-models-warning">{warning}</p> : null}
      {override ? (
        <p className="jp-mlops-models-warning">
          The override is recorded with your name and reason in the model's history.
        </p>
      ) : null}
      <Confirm
        model={model}
        action="promote"
        summary={`Point ${target || '…'} of ${detail.name} at version ${version}${
          override ? ', overriding failed checks' : ''
        }.`}
        blocked={blocked}
        onConfirm={() => {
          void model.promote(input).then(err => err === null && onClose());
        }}
        onClose={onClose}
      />
    </form>
  );
}

/** Roll back, Cut out and Restore: an alias (or every one), a reason, a confirmation. */
function AliasForm(props: FormProps & { action: Exclude<ModelAction, 'promote'> }): JSX.Element {
  const { model, detail, action, onClose } = props;
  const choices = detail.aliases.filter(a =>
    action === 'cutout' ? !a.cut_out : action === 'restore' ? a.cut_out : true
  );
  const allowEvery = action !== 'rollback';
  const [alias, setAlias] = React.useState(allowEvery ? EVERY : (choices[0]?.alias ?? ''));
  const [reason, setReason] = React.useState('');
  const target = alias === EVERY ? null : alias;
  const input = { alias: target, reason };
  const blocked = validateAction(action, input);
  const named = target ?? (action === 'restore' ? 'every cut-out alias' : 'every alias');
  const summaries: Record<typeof action, string> = {
    rollback: `Point ${named} of ${detail.name} back at the version it named before.`,
    cutout:
      `Stop serving ${named} of ${detail.name} now: ` +
      'requests are answered 503 until it is restored.',
    restore: `Serve ${named} of ${detail.name} again.`
  };
  const run = (): Promise<string | null> =>
    action === 'rollback'
      ? model.rollback(input)
      : action === 'cutout'
        ? model.cutout(input)
        : model.restore(input);
  return (
    <form
      aria-label={LABELS[action]}
      className={`jp-mlops-form jp-mlops-models-form${
        action === 'cutout' ? ' jp-mlops-models-form-danger' : ''
      }`}
    >
      {action === 'cutout' ? (
        <p className="jp-mlops-models-danger-text">
          Cutting out stops serving at once. Use it when the model does harm; roll back when a
          previous version should serve instead.
        </p>
      ) : null}
      <Field label="Alias">
        {id => (
          <select
            id={id}
            className="jp-mlops-input"
            value={alias}
            onChange={event => setAlias(event.currentTarget.value)}
          >
            {allowEvery ? (
              <option value={EVERY}>
                {action === 'restore' ? 'every cut-out alias' : 'every alias'}
              </option>
            ) : null}
            {choices.map(a => (
              <option key={a.alias} value={a.alias}>
                {`${a.alias} (v${a.version})`}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ReasonField value={reason} onChange={setReason} required={action === 'cutout'} />
      <Confirm
        model={model}
        action={action}
        summary={summaries[action]}
        blocked={blocked}
        danger={action === 'cutout'}
        onConfirm={() => {
          void run().then(err => err === null && onClose());
        }}
        onClose={onClose}
      />
    </form>
  );
}

export function ModelActions({ model, detail }: ModelActionsProps): JSX.Element {
  const [open, setOpen] = React.useState<ModelAction | null>(null);
  const hasAliases = detail.aliases.length > 0;
  const live = detail.aliases.some(a => !a.cut_out);
  const cut = detail.aliases.some(a => a.cut_out);
  const enabled: Record<ModelAction, boolean> = {
    promote: detail.versions.length > 0,
    rollback: hasAliases,
    cutout: live,
    restore: cut
  };
  const toggle = (action: ModelAction): void => {
    model.clearActionMessages();
    setOpen(open === action ? null : action);
  };
  const close = (): void => setOpen(null);
  return (
    <div className="jp-mlops-models-actions">
      <div className="jp-mlops-runs-actions">
        {(Object.keys(LABELS) as ModelAction[]).map(action => (
          <button
            key={action}
            type="button"
            className={`jp-mlops-button${action === 'cutout' ? ' jp-mlops-button-danger' : ''}`}
            aria-expanded={open === action}
            disabled={!enabled[action]}
            onClick={() => toggle(action)}
          >
            {LABELS[action]}
          </button>
        ))}
      </div>
      {model.notice ? (
        <div role="status" className="jp-mlops-success">
          {model.notice}
        </div>
      ) : null}
      {open === 'promote' ? (
        <PromoteForm model={model} detail={detail} onClose={close} />
      ) : open !== null ? (
        <AliasForm key={open} model={model} detail={detail} action={open} onClose={close} />
      ) : null}
    </div>
  );
}
