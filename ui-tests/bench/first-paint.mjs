// Time from opening the MLOps panel to the first painted row of its Runs table.
//
//   node bench/first-paint.mjs --target NAME=URL [--target NAME=URL ...] [--repeat N]
//                              [--chromium /usr/bin/chromium]
//
// Each URL is a JupyterLab started with jupyter_server_test_config.py (no token,
// `window.jupyterapp` exposed) whose panel reaches a daemon with runs in it. For
// each repetition and each target in turn (round robin, so background load hits
// all alike) a fresh page loads JupyterLab with a reset workspace, waits until the
// panel's tab is there and the page is idle (no request for 0.5 s, then 1 s more),
// then, in the page: notes the time, opens the panel
// (shell.activateById) and waits until a row with a "Select run ..." checkbox is
// in the Runs table, then for the next frame to be painted (requestAnimationFrame,
// then a task). Prints one JSON object: {"NAME": [milliseconds, ...], ...}.
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const args = { targets: [], repeat: 5, chromium: '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--target') {
      const at = value.indexOf('=');
      args.targets.push({ name: value.slice(0, at), url: value.slice(at + 1) });
      i++;
    } else if (argv[i] === '--repeat') {
      args.repeat = Number(value);
      i++;
    } else if (argv[i] === '--chromium') {
      args.chromium = value;
      i++;
    } else {
      throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (args.targets.length === 0) {
    throw new Error('give at least one --target NAME=URL');
  }
  return args;
}

const PANEL_ID = 'jp-mlops-panel';
const SETTLE_MS = 1000;
const ROW = `#${PANEL_ID} table[aria-label="Runs"] tr input[type="checkbox"][aria-label^="Select run"]`;

/** In the page: open the panel and resolve with ms until the first row is painted. */
function openAndTime({ panelId, row }) {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error('no run row after 60 s')), 60000);
    const painted = () => {
      requestAnimationFrame(() =>
        setTimeout(() => {
          clearTimeout(timeout);
          resolve(performance.now() - start);
        }, 0)
      );
    };
    const found = () => document.querySelector(row) !== null;
    const observer = new MutationObserver(() => {
      if (found()) {
        observer.disconnect();
        painted();
      }
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    const start = performance.now();
    window.jupyterapp.shell.activateById(panelId);
    if (found()) {
      observer.disconnect();
      painted();
    }
  });
}

async function measureOnce(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  try {
    await page.goto(`${url}/lab?reset`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.jupyterapp !== undefined, null, { timeout: 120000 });
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 120000 });
    await page
      .locator(`.lm-TabBar-tab[data-id="${PANEL_ID}"]`)
      .waitFor({ state: 'attached', timeout: 60000 });
    // Let JupyterLab's own start-up work (fetches, layout) finish first.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(SETTLE_MS);
    return await page.evaluate(openAndTime, { panelId: PANEL_ID, row: ROW });
  } finally {
    await page.close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  });
  const samples = Object.fromEntries(args.targets.map(target => [target.name, []]));
  try {
    for (const target of args.targets) {
      await measureOnce(browser, target.url); // warm-up: caches, the daemon's first query
    }
    for (let rep = 0; rep < args.repeat; rep++) {
      for (const target of args.targets) {
        samples[target.name].push(await measureOnce(browser, target.url));
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}

main().catch(error => {
  process.stderr.write(`first-paint: ${error.stack ?? error}\n`);
  process.exit(1);
});
