// Stops the daemons of the UI test run (the one workspace.py started and any the
// panel started), kills their runs and keeps their logs in test-results/daemon-logs.
// @ts-check
const { execFileSync } = require('child_process');

module.exports = async function globalTeardown() {
  const state = process.env.MLOPS_UI_STATE;
  if (!state) {
    return;
  }
  const python = process.env.MLOPS_UI_PYTHON || 'python';
  execFileSync(python, ['workspace.py', 'teardown', state], {
    cwd: __dirname,
    stdio: 'inherit'
  });
};
