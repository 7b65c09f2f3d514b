/**
 * jupyter-mlops: the MLOps side panel (daemon status, the active notebook's lint lessons
 * and Productionise flow, the runs, the models and their gated promotion), the `mlops:productionise` and `mlops:open-panel`
 * commands, and the settings, applied live.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { configureRequests } from './api/request';
import { MlopsPanel } from './components/Panel';
import { mlopsIcon } from './icons';
import { ConnectionModel } from './model/connection';
import { ModelsModel } from './model/models';
import { NotebookModel } from './model/notebook';
import { PanelNotebookHandle } from './model/notebookHandle';
import { RunsModel } from './model/runs';
import { DEFAULT_SETTINGS, MlopsSettings, readSettings, relativeToRoot } from './settings';

const PLUGIN_ID = 'jupyter-mlops:plugin';

export namespace CommandIDs {
  export const productionise = 'mlops:productionise';
  export const openPanel = 'mlops:open-panel';
}

async function openNotebookAt(
  docManager: IDocumentManager,
  rootDir: string | null,
  path: string,
  cellIds: string[]
): Promise<void> {
  const relative = relativeToRoot(rootDir, path);
  if (relative === null) {
    Notification.error(`${path} is outside the Jupyter server's root directory.`, {
      autoClose: 8000
    });
    return;
  }
  const widget = docManager.openOrReveal(relative);
  if (!(widget instanceof NotebookPanel)) {
    return;
  }
  await widget.context.ready;
  const wanted = new Set(cellIds);
  const index = widget.content.widgets.findIndex(cell => wanted.has(cell.model.id));
  if (index >= 0) {
    new PanelNotebookHandle(widget).selectCell(index);
  }
}

function activate(
  app: JupyterFrontEnd,
  labShell: ILabShell,
  tracker: INotebookTracker,
  docManager: IDocumentManager,
  settingRegistry: ISettingRegistry | null,
  palette: ICommandPalette | null
): void {
  let settings: MlopsSettings = { ...DEFAULT_SETTINGS };
  const connection = new ConnectionModel({
    autostart: settings.autostart,
    pollIntervalMs: settings.pollIntervalMs
  });
  const notebook = new NotebookModel({ connection, pollIntervalMs: settings.pollIntervalMs });
  const runs = new RunsModel({
    perPage: settings.runsPerPage,
    pollIntervalMs: settings.pollIntervalMs
  });
  const models = new ModelsModel({ pollIntervalMs: settings.pollIntervalMs });
  const panel = new MlopsPanel({
    connection,
    notebook,
    runs,
    models,
    defaultExecutor: settings.defaultExecutor,
    onOpenNotebook: (path, cellIds) => {
      void openNotebookAt(docManager, connection.status?.root_dir ?? null, path, cellIds);
    }
  });
  labShell.add(panel, 'left', { rank: 900 });

  // Follow the current notebook.
  const handles = new WeakMap<NotebookPanel, PanelNotebookHandle>();
  const follow = (current: NotebookPanel | null): void => {
    if (current === null) {
      notebook.setNotebook(null);
      return;
    }
    let handle = handles.get(current);
    if (!handle) {
      handle = new PanelNotebookHandle(current);
      handles.set(current, handle);
    }
    const set = (): void => notebook.setNotebook(handle ?? null);
    if (current.context.isReady) {
      set();
    } else {
      void current.context.ready.then(() => {
        if (tracker.currentWidget === current) {
          set();
        }
      });
    }
  };
  tracker.currentChanged.connect((_, current) => follow(current));
  follow(tracker.currentWidget);

  // A run started from the Train form shows up in the Runs section.
  notebook.runStarted.connect((_, runId) => {
    void runs.refresh();
    runs.openRun(runId);
    labShell.activateById(panel.id);
    panel.revealRuns();
  });
  // The runs list fills in once the daemon answers.
  let wasOk = false;
  connection.changed.connect(() => {
    if (connection.isOk && !wasOk) {
      void runs.refresh();
      void models.refresh();
    }
    wasOk = connection.isOk;
  });

  app.commands.addCommand(CommandIDs.productionise, {
    label: 'Productionise',
    caption:
      'Productionise: extract the selected cells (or the whole notebook) into a tested module',
    icon: mlopsIcon,
    isEnabled: () => tracker.currentWidget !== null,
    execute: () => {
      const current = tracker.currentWidget;
      if (!current) {
        return;
      }
      follow(current);
      labShell.activateById(panel.id);
      void current.context.ready.then(() => notebook.productionise());
    }
  });
  app.commands.addCommand(CommandIDs.openPanel, {
    label: 'Open MLOps Panel',
    caption: 'Show the MLOps side panel',
    icon: mlopsIcon,
    execute: () => labShell.activateById(panel.id)
  });
  tracker.currentChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.productionise));
  if (palette) {
    palette.addItem({ command: CommandIDs.productionise, category: 'MLOps' });
    palette.addItem({ command: CommandIDs.openPanel, category: 'MLOps' });
  }

  const apply = (next: MlopsSettings): void => {
    const urlChanged = next.daemonUrl !== settings.daemonUrl;
    settings = next;
    configureRequests({ daemonUrl: next.daemonUrl });
    connection.configure({ autostart: next.autostart, pollIntervalMs: next.pollIntervalMs });
    notebook.configure({ pollIntervalMs: next.pollIntervalMs });
    runs.configure({ perPage: next.runsPerPage, pollIntervalMs: next.pollIntervalMs });
    models.configure({ pollIntervalMs: next.pollIntervalMs });
    panel.defaultExecutor = next.defaultExecutor;
    if (urlChanged) {
      void connection.refresh();
    }
  };

  // Settings come first so that autostart is never tried against the user's choice.
  const loaded = settingRegistry
    ? settingRegistry.load(PLUGIN_ID).then(
        loadedSettings => {
          apply(readSettings(loadedSettings.composite));
          loadedSettings.changed.connect(() => apply(readSettings(loadedSettings.composite)));
        },
        (err: unknown) => console.warn('jupyter-mlops: cannot load the settings', err)
      )
    : Promise.resolve();
  void loaded.then(() => connection.refresh());
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The MLOps side panel: Productionise, experiment history, live runs.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker, IDocumentManager],
  optional: [ISettingRegistry, ICommandPalette],
  activate
};

export default plugin;
