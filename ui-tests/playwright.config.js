// Playwright configuration of the jupyter-mlops UI tests (Galata, Debian's Chromium).
//
// Two Jupyter servers are started for the run:
// - the main one (MLOPS_UI_PORT) over a fresh git repository holding copies of the
//   shared notebooks, with a real daemon in a fresh MLOPS_HOME (workspace.py prepare);
// - the "down" one (MLOPS_UI_DOWN_PORT) over an empty repository and a fresh
//   MLOPS_HOME with no daemon, for the "Daemon not running" test.
// globalTeardown stops both daemons and copies their logs into test-results/.
//
// This file is loaded by the runner and again by every worker: the temporary
// folder and the ports are chosen once, in the runner, and handed to the workers
// through the environment.
// @ts-check
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

/** A free TCP port on 127.0.0.1 (asked of a short-lived child, as config loading is sync). */
function freePort() {
  const script =
    "const s = require('net').createServer();" +
    "s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });";
  return execFileSync(process.execPath, ['-e', script]).toString().trim();
}

if (!process.env.MLOPS_UI_STATE) {
  process.env.MLOPS_UI_STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-ui-'));
}
if (!process.env.MLOPS_UI_PORT) {
  process.env.MLOPS_UI_PORT = freePort();
}
if (!process.env.MLOPS_UI_DOWN_PORT) {
  process.env.MLOPS_UI_DOWN_PORT = freePort();
}

const STATE = process.env.MLOPS_UI_STATE;
const PORT = process.env.MLOPS_UI_PORT;
const DOWN_PORT = process.env.MLOPS_UI_DOWN_PORT;
const PYTHON = process.env.MLOPS_UI_PYTHON || 'python';
const CHROMIUM = process.env.MLOPS_UI_CHROMIUM || '/usr/bin/chromium';

/** The environment of one Jupyter server (merged into the runner's by Playwright). */
function serverEnv(root, home, allowStart) {
  return {
    MLOPS_UI_ROOT: path.join(STATE, root),
    MLOPS_HOME: path.join(STATE, home),
    MLOPS_UI_ALLOW_START: allowStart ? '1' : '0',
    MLOPS_PORT: '0', // a daemon the panel starts takes any free port
    MLOPS_CONCURRENCY: '2',
    // The panel's runs go to local processes: Docker runs are tested by pytest, and the
    // default base image (python:3.11-slim) may not be there to pull.
    MLOPS_DOCKER: 'off',
    MPLBACKEND: 'Agg'
  };
}

const LOGS = path.join(__dirname, 'test-results', 'server-logs');

/**
 * `prepare` the workspace, then run JupyterLab with the test server config, its
 * (verbose) log going to test-results/server-logs/<name>.log.
 */
function serverCommand(action, port, name) {
  const log = path.join(LOGS, `${name}.log`);
  return (
    `mkdir -p "${LOGS}" && "${PYTHON}" workspace.py ${action} "${STATE}" && ` +
    `exec jupyter lab --config jupyter_server_test_config.py --port ${port} --no-browser ` +
    `>"${log}" 2>&1`
  );
}

module.exports = {
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results/output',
  // One JupyterLab and one daemon are shared: tests run one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120 * 1000,
  expect: { timeout: 15 * 1000 },
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
    ['json', { outputFile: 'test-results/results.json' }]
  ],
  globalTeardown: require.resolve('./global-teardown.js'),
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1440, height: 900 },
    video: 'off', // needs Playwright's own ffmpeg, which cannot be downloaded here
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: [
    {
      command: serverCommand('prepare', PORT, 'jupyter-main'),
      url: `http://127.0.0.1:${PORT}/lab`,
      env: serverEnv('root', 'home', true),
      timeout: 180 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10 * 1000 }
    },
    {
      command: serverCommand('prepare-down', DOWN_PORT, 'jupyter-down'),
      url: `http://127.0.0.1:${DOWN_PORT}/lab`,
      env: serverEnv('down-root', 'down-home', true),
      timeout: 180 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10 * 1000 }
    }
  ]
};
