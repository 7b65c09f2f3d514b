/**
 * Friendly names for the daemon's API types (generated into ./schema.ts) and the
 * server extension's own `GET mlops/status` body, which the OpenAPI document does not cover.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

/**
 * A request body: openapi-typescript marks every field with a default as present (true of
 * responses); in a request only `K` must be given and the daemon fills in the rest.
 */
type RequestBody<T, K extends keyof T> = Pick<T, K> & Partial<Omit<T, K>>;

export type RunSummary = Schemas['RunSummary'];
export type DatasetList = Schemas['DatasetList'];
export type RunDetail = Schemas['RunDetail'];
export type RunPage = Schemas['RunPage'];
export type RunSpec = RequestBody<Schemas['RunSpec'], 'project' | 'entry_point'>;
export type RunStatus = Schemas['RunStatus'];
export type RunMetrics = Schemas['RunMetrics'];
export type MetricSeries = Schemas['MetricSeries'];
export type LogChunk = Schemas['LogChunk'];
export type ArtifactOut = Schemas['ArtifactOut'];
export type DaemonInfo = Schemas['DaemonInfo'];
export type LintReport = Schemas['LintReport'];
export type Finding = Schemas['Finding'];
export type Severity = Schemas['Severity'];
export type CheckItem = Schemas['CheckItem'];
export type Readiness = Schemas['Readiness'];
export type CellSummary = Schemas['CellSummary'];
export type StepPlan = Schemas['StepPlan'];
export type ExtractionRequest = RequestBody<Schemas['ExtractionRequest'], 'notebook'>;
export type ExtractionPlan = Schemas['ExtractionPlan'];
export type ExtractionJob = Schemas['ExtractionJob'];
export type ExtractionResult = Schemas['ExtractionResult'];
export type JobError = Schemas['JobError'];
export type JobProgress = Schemas['JobProgress'];
export type JobState = Schemas['JobState'];
export type ModuleVersionOut = Schemas['ModuleVersionOut'];
export type ModuleVersionRef = Schemas['ModuleVersionRef'];
export type ModuleVersionList = Schemas['ModuleVersionList'];
export type ErrorBody = Schemas['ErrorBody'];
export type ModelList = Schemas['ModelList'];
export type ModelSummary = Schemas['ModelSummary'];
export type ModelDetail = Schemas['ModelDetail'];
export type ServingStatsList = Schemas['ServingStatsList'];
export type ServingStats = Schemas['ServingStats'];
export type ModelVersionOut = Schemas['ModelVersionOut'];
export type AliasOut = Schemas['AliasOut'];
export type ModelEventOut = Schemas['ModelEventOut'];
export type GateReportOut = Schemas['GateReportOut'];
export type GateCheck = Schemas['GateCheck'];
export type CheckStatus = Schemas['CheckStatus'];
export type GateStatus = Schemas['GateStatus'];
export type PromoteRequest = RequestBody<Schemas['PromoteRequest'], 'version' | 'alias'>;
export type RollbackRequest = RequestBody<Schemas['RollbackRequest'], 'alias'>;
export type CutoutRequest = RequestBody<Schemas['CutoutRequest'], 'reason'>;
export type RestoreRequest = RequestBody<Schemas['RestoreRequest'], never>;

/** A parameter value a run accepts. */
export type ParamValue = string | number | boolean | null;

/** Where the server extension stands with the daemon. */
export type ConnectionState = 'ok' | 'down' | 'mismatch';

/** The body of the server extension's `GET mlops/status` (and `POST mlops/daemon/start`). */
export interface MlopsStatus {
  state: ConnectionState;
  message: string;
  extension_version: string;
  daemon_version: string | null;
  daemon_url: string | null;
  /** Absolute path of the Jupyter server's root directory. */
  root_dir: string;
  /** The daemon's MLOPS_HOME. */
  home: string;
  /** Whether `POST mlops/daemon/start` is allowed. */
  can_start: boolean;
}
