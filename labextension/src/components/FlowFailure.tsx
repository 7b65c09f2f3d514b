/** A failed plan or extraction: the daemon's message, with the lesson and cell output. */
import * as React from 'react';
import type { FlowError } from '../model/notebook';

export interface FlowFailureProps {
  error: FlowError;
  onSelectCell: (cell: number) => void;
  onDismiss: () => void;
}

export function FlowFailure({ error, onSelectCell, onDismiss }: FlowFailureProps): JSX.Element {
  const cell = error.cell ?? null;
  return (
    <div className="jp-mlops-failure">
      <div role="alert" className="jp-mlops-error">
        {error.kind ? <strong>{error.kind}: </strong> : null}
        {error.message}
      </div>
      {cell !== null ? (
        <button type="button" className="jp-mlops-link-button" onClick={() => onSelectCell(cell)}>
          Go to cell {cell + 1}
        </button>
      ) : null}
      {error.lesson ? (
        <details className="jp-mlops-lesson-text" open>
          <summary>Lesson</summary>
          <p>{error.lesson}</p>
        </details>
      ) : null}
      {error.output ? (
        <details>
          <summary>Output</summary>
          <pre className="jp-mlops-log">{error.output}</pre>
        </details>
      ) : null}
      <div className="jp-mlops-actions">
        <button type="button" className="jp-mlops-button" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
