/**
 * A small in-memory model registry behind the fake Jupyter server (fakeServer.ts): the
 * Models tests go through the real client and request modules, and the registry answers
 * as the daemon does (refusals are 409s with a message, an override without a reason 400).
 */
import type { FakeCall, FakeReply, Routes } from '../../__tests__/fakeServer';
import type {
  AliasOut,
  GateCheck,
  GateReportOut,
  ModelDetail,
  ModelEventOut,
  ModelVersionOut
} from '../../api/types';

const T0 = '2024-05-01T10:00:00Z';

export function gateCheck(overrides: Partial<GateCheck> = {}): GateCheck {
  return {
    name: 'tests',
    kind: 'tests',
    status: 'passed',
    required: true,
    model: null,
    measured: '3 passed',
    threshold: 'all pass',
    evidence: '3 passed in 0.12s',
    lesson: 'Tests catch a broken training step before it reaches users.',
    ...overrides
  };
}

export function gateReport(
  status: GateReportOut['status'],
  checks: GateCheck[],
  overrides: Partial<GateReportOut> = {}
): GateReportOut {
  return {
    id: `gate-${Math.random().toString(16).slice(2, 8)}`,
    run_id: 'run00001aaaaaaaa',
    status,
    passed: status === 'passed',
    checks,
    config_path: null,
    created_at: T0,
    finished_at: status === 'pending' ? null : T0,
    ...overrides
  };
}

export function modelVersion(
  version: number,
  gate: GateReportOut | null,
  overrides: Partial<ModelVersionOut> = {}
): ModelVersionOut {
  return {
    id: `mv${version}`,
    model: 'iris',
    version,
    run_id: `run${version}0000bbbbbbbb`,
    flavor: 'sklearn',
    task: 'classification',
    onnx_sha256: 'ab'.repeat(32),
    signature: { inputs: [], outputs: [] },
    preprocess: null,
    parity: null,
    input_columns: null,
    sample_input: [],
    aliases: [],
    gate,
    created_at: T0,
    ...overrides
  };
}

/** The end of the refusal of a version whose required checks failed. */
export const OVERRIDE = 'promote with --override --reason to go ahead';

/** An alias as the daemon answers it. */
export function aliasOut(alias: string, version: number, cutOut: string | null = null): AliasOut {
  return {
    alias,
    version,
    version_id: `mv${version}`,
    cut_out: cutOut !== null,
    cut_out_reason: cutOut,
    updated_at: T0
  };
}

function reply(status: number, message: string): FakeReply {
  return { status, body: { error: status === 400 ? 'invalid_input' : 'conflict', message } };
}

/** One model, `iris`, whose versions and aliases change as the actions are posted. */
export class FakeRegistry {
  constructor(versions: ModelVersionOut[]) {
    this.versions = versions;
  }

  versions: ModelVersionOut[];
  aliases: AliasOut[] = [];
  events: ModelEventOut[] = [];
  /** The actor header of each change, in order. */
  actors: (string | null)[] = [];

  detail(): ModelDetail {
    const versions = this.versions.map(v => ({
      ...v,
      aliases: this.aliases.filter(a => a.version === v.version).map(a => a.alias)
    }));
    return {
      name: 'iris',
      versions: [...versions].sort((a, b) => b.version - a.version),
      aliases: this.aliases.map(a => ({ ...a })),
      events: [...this.events].reverse()
    };
  }

  routes(): Routes {
    return {
      'GET api/models': () => ({
        body: {
          models: [
            {
              name: 'iris',
              latest_version: Math.max(...this.versions.map(v => v.version)),
              versions: this.versions.length,
              aliases: this.aliases,
              updated_at: T0
            }
          ]
        }
      }),
      'GET api/models/iris': () => ({ body: this.detail() }),
      'POST api/models/iris/promote': call => this._promote(call),
      'POST api/models/iris/rollback': call => this._rollback(call),
      'POST api/models/iris/cutout': call => this._cut(call, true),
      'POST api/models/iris/restore': call => this._cut(call, false)
    };
  }

  private _event(call: FakeCall, e: Partial<ModelEventOut>): void {
    const body = call.body as { reason?: string | null; alias?: string | null };
    this.actors.push(call.headers.get('X-Mlops-Actor'));
    this.events.push({
      id: this.events.length + 1,
      model: 'iris',
      alias: body.alias ?? null,
      action: 'promote',
      version: null,
      previous_version: null,
      override: false,
      gate_report_id: null,
      actor: 'ada',
      reason: body.reason ?? null,
      at: T0,
      ...e
    });
  }

  private _promote(call: FakeCall): FakeReply {
    const req = call.body as {
      version: number;
      alias: string;
      override?: boolean;
      reason?: string | null;
    };
    const v = this.versions.find(x => x.version === req.version);
    if (!v) {
      return { status: 404, body: { error: 'not_found', message: `no version ${req.version}` } };
    }
    if (req.override && !req.reason) {
      return reply(400, 'an override needs a reason');
    }
    if (!v.gate || v.gate.status === 'pending') {
      return reply(409, `version ${v.version}: gates are still running`);
    }
    if (!v.gate.passed && !req.override) {
      const failed = v.gate.checks.filter(c => c.required && c.status !== 'passed');
      const names = failed.map(c => c.name).join(', ');
      const message = `version ${v.version} of iris failed required checks: ${names}`;
      return reply(409, `${message}; ${OVERRIDE}`);
    }
    const current = this.aliases.find(a => a.alias === req.alias);
    if (current?.version === v.version) {
      return reply(409, `${req.alias} already names version ${v.version}`);
    }
    const alias: AliasOut = {
      alias: req.alias,
      version: v.version,
      version_id: v.id,
      cut_out: false,
      cut_out_reason: null,
      updated_at: T0
    };
    this.aliases = [...this.aliases.filter(a => a.alias !== req.alias), alias];
    this._event(call, {
      action: 'promote',
      version: v.version,
      previous_version: current?.version ?? null,
      override: !!req.override,
      gate_report_id: v.gate.id
    });
    return { body: this.detail() };
  }

  private _rollback(call: FakeCall): FakeReply {
    const req = call.body as { alias: string };
    const current = this.aliases.find(a => a.alias === req.alias);
    const previous = [...this.events]
      .reverse()
      .find(e => e.alias === req.alias && e.action === 'promote' && e.previous_version !== null);
    if (!current || !previous || previous.previous_version === null) {
      return reply(409, `${req.alias} has no earlier version to roll back to`);
    }
    const back = previous.previous_version;
    current.version = back;
    this._event(call, { action: 'rollback', version: back, previous_version: previous.version });
    return { body: this.detail() };
  }

  private _cut(call: FakeCall, cut: boolean): FakeReply {
    const req = call.body as { alias: string | null; reason?: string | null };
    const targets = this.aliases.filter(
      a => (req.alias === null || a.alias === req.alias) && a.cut_out !== cut
    );
    if (!targets.length) {
      return reply(409, cut ? 'nothing to cut out' : 'nothing to restore');
    }
    for (const a of targets) {
      a.cut_out = cut;
      a.cut_out_reason = cut ? (req.reason ?? null) : null;
    }
    this._event(call, { action: cut ? 'cutout' : 'restore', version: targets[0].version });
    return { body: this.detail() };
  }
}
