/** The MLOps side panel widget (left area, id `jp-mlops-panel`). */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import { mlopsIcon } from '../icons';
import type { Executor } from '../model/notebook';
import { MlopsPanelView, type MlopsPanelOptions } from './PanelView';

export type { MlopsPanelOptions } from './PanelView';

export class MlopsPanel extends ReactWidget {
  constructor(options: MlopsPanelOptions) {
    super();
    this._options = { ...options };
    this.id = 'jp-mlops-panel';
    this.title.caption = 'MLOps';
    this.title.icon = mlopsIcon;
    this.addClass('jp-mlops-Panel');
  }

  /** The Train form's default executor (the `defaultExecutor` setting). */
  set defaultExecutor(value: Executor) {
    if (value !== this._options.defaultExecutor) {
      this._options = { ...this._options, defaultExecutor: value };
      this.update();
    }
  }

  /** Scroll the Runs section into view (after a run was started from the Train form). */
  revealRuns(): void {
    requestAnimationFrame(() => {
      this.node
        .querySelector('section[aria-label="Runs"]')
        ?.scrollIntoView({ block: 'start', behavior: 'smooth' });
    });
  }

  protected render(): JSX.Element {
    return <MlopsPanelView {...this._options} />;
  }

  protected onAfterShow(): void {
    this._options.runs.setActive(true);
    this._options.models.setActive(true);
  }

  protected onAfterHide(): void {
    this._options.runs.setActive(false);
    this._options.models.setActive(false);
  }

  private _options: MlopsPanelOptions;
}
