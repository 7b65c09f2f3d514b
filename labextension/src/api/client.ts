/** Typed calls of the server extension and, through its proxy, of the daemon API. */
import { apiUrl, requestAPI } from './request';
import type {
  CutoutRequest,
  DatasetList,
  ExtractionJob,
  ExtractionPlan,
  ExtractionRequest,
  LintReport,
  GateReportOut,
  LogChunk,
  MlopsStatus,
  ModelDetail,
  ModelList,
  ModuleVersionList,
  PromoteRequest,
  RestoreRequest,
  RollbackRequest,
  RunDetail,
  RunMetrics,
  RunPage,
  RunSpec,
  ServingStatsList,
  DaemonInfo
} from './types';

export type SortOrder = 'asc' | 'desc';

export interface RunQuery {
  page: number;
  per_page: number;
  /** created_at, started_at, ended_at, duration, status, entry_point, name, metrics.<k>,
   * params.<k> */
  sort: string;
  order: SortOrder;
  /** Comma-separated statuses to keep. */
  status?: string;
  /** A project's absolute path or numeric id. */
  project?: string;
}

export interface ModuleQuery {
  project?: string;
  module_path?: string;
}

const seg = encodeURIComponent;

export function getStatus(): Promise<MlopsStatus> {
  return requestAPI<MlopsStatus>('status');
}

export function startDaemon(): Promise<MlopsStatus> {
  return requestAPI<MlopsStatus>('daemon/start', { method: 'POST' });
}

export function getInfo(): Promise<DaemonInfo> {
  return requestAPI<DaemonInfo>('api/info');
}

export function lint(notebook: string, project?: string): Promise<LintReport> {
  return requestAPI<LintReport>('api/lint', {
    method: 'POST',
    body: { notebook, project: project ?? null }
  });
}

export function planExtraction(req: ExtractionRequest): Promise<ExtractionPlan> {
  return requestAPI<ExtractionPlan>('api/extractions/plan', { method: 'POST', body: req });
}

export function startExtraction(req: ExtractionRequest): Promise<ExtractionJob> {
  return requestAPI<ExtractionJob>('api/extractions', { method: 'POST', body: req });
}

export function getExtraction(id: string): Promise<ExtractionJob> {
  return requestAPI<ExtractionJob>(`api/extractions/${seg(id)}`);
}

export function listRuns(q: RunQuery): Promise<RunPage> {
  return requestAPI<RunPage>('api/runs', { query: { ...q } });
}

export function getRun(id: string): Promise<RunDetail> {
  return requestAPI<RunDetail>(`api/runs/${seg(id)}`);
}

export function getMetrics(id: string, key?: string): Promise<RunMetrics> {
  return requestAPI<RunMetrics>(`api/runs/${seg(id)}/metrics`, { query: { key } });
}

export function getLogs(id: string, offset: number): Promise<LogChunk> {
  return requestAPI<LogChunk>(`api/runs/${seg(id)}/logs`, { query: { offset } });
}

export function cancelRun(id: string): Promise<RunDetail> {
  return requestAPI<RunDetail>(`api/runs/${seg(id)}/cancel`, { method: 'POST' });
}

export function submitRun(spec: RunSpec): Promise<RunDetail> {
  return requestAPI<RunDetail>('api/runs', { method: 'POST', body: spec });
}

/** The recorded datasets, each with its latest version. */
export function listDatasets(): Promise<DatasetList> {
  return requestAPI<DatasetList>('api/datasets');
}

export function listModules(q: ModuleQuery = {}): Promise<ModuleVersionList> {
  return requestAPI<ModuleVersionList>('api/modules', { query: { ...q } });
}

/** The registered models, each with its latest version and aliases. */
export function listModels(): Promise<ModelList> {
  return requestAPI<ModelList>('api/models');
}

/** One model: versions (newest first, each with its gate report), aliases, history. */
export function getModel(name: string): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`api/models/${seg(name)}`);
}

/** Requests, errors and p50/p99 latency of each alias served since the daemon started. */
export function getServingStats(name: string): Promise<ServingStatsList> {
  return requestAPI<ServingStatsList>(`api/models/${seg(name)}/serving`);
}

/** Point an alias at a version (409 when its gates did not pass, unless overridden). */
export function promoteModel(name: string, req: PromoteRequest): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`api/models/${seg(name)}/promote`, { method: 'POST', body: req });
}

/** Point an alias back at the version it named before. */
export function rollbackModel(name: string, req: RollbackRequest): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`api/models/${seg(name)}/rollback`, {
    method: 'POST',
    body: req
  });
}

/** Stop serving an alias (`alias: null`: every alias of the model). */
export function cutoutModel(name: string, req: CutoutRequest): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`api/models/${seg(name)}/cutout`, { method: 'POST', body: req });
}

/** Serve a cut-out alias again (`alias: null`: every cut-out alias). */
export function restoreModel(name: string, req: RestoreRequest): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`api/models/${seg(name)}/restore`, { method: 'POST', body: req });
}

/** A run's latest gate report (`wait`: answer once it is no longer pending). */
export function getGate(runId: string, wait = false): Promise<GateReportOut> {
  return requestAPI<GateReportOut>(`api/runs/${seg(runId)}/gate`, {
    query: wait ? { wait: true } : undefined
  });
}

/** A download link for one artifact of a run (`path` relative to the run directory). */
export function artifactUrl(runId: string, path: string): string {
  const encoded = path
    .split('/')
    .filter(part => part !== '')
    .map(seg)
    .join('/');
  return apiUrl(`api/runs/${seg(runId)}/artifacts/${encoded}`);
}
