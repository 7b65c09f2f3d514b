/** The progress of a running extraction job. */
import * as React from 'react';
import type { ExtractionJob } from '../api/types';

export function ExtractProgress({ job }: { job: ExtractionJob }): JSX.Element {
  const progress = job.progress;
  const total = progress && progress.total > 0 ? progress.total : 1;
  const done = progress ? Math.min(progress.done, total) : 0;
  const stage = progress ? progress.stage : job.state;
  const message = progress?.message || (job.state === 'queued' ? 'Waiting to start…' : '');
  const percent = Math.round((done / total) * 100);
  return (
    <div className="jp-mlops-progress-block">
      <div
        role="progressbar"
        aria-label="Extraction progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${stage}: ${done} of ${total}`}
        className="jp-mlops-progress"
      >
        <div className="jp-mlops-progress-bar" style={{ width: `${percent}%` }} />
      </div>
      <p className="jp-mlops-progress-text">
        <span className="jp-mlops-stage">{stage}</span>
        {message ? <span> — {message}</span> : null}
      </p>
    </div>
  );
}
