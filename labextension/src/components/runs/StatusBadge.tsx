/** A run's status as a small coloured badge (the text is the status itself). */
import * as React from 'react';
import type { RunStatus } from '../../api/types';
import { isActiveStatus } from '../../model/runsStatus';

export function StatusBadge({ status }: { status: RunStatus }): JSX.Element {
  return (
    <span
      className={`jp-mlops-runs-status jp-mlops-runs-status-${status}${
        isActiveStatus(status) ? ' jp-mlops-runs-status-active' : ''
      }`}
    >
      {status}
    </span>
  );
}
