// The UI test harness: one real `jupyter lab` (from the project's .venv, with the
// reactive_notebook server extension) and one headless Debian Chromium (driven by
// playwright-core, no browser download) per test run; a new browser context and page per
// test; screenshots under test-artifacts/ui/<test>/<step>.png.
//
// The lab's assistant talks to a fake model server (tests/agent/fake_llm.py, started before
// the lab and stopped after it) that the chat specs script over its control API
// (`session.fakeLlmUrl`): no test reaches a real provider.
//
// Nothing here reaches beyond 127.0.0.1: JupyterLab's news feed, update check and PyPI
// extension manager are switched off and Chromium's background networking too; every page
// records requests to other hosts (`session.foreignRequests`) for the tests to assert on.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'ui');
const VENV = process.env.VENV ? path.resolve(REPO_ROOT, process.env.VENV) : path.join(REPO_ROOT, '.venv');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HOST = '127.0.0.1';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

const LAB_START_TIMEOUT_MS = 90_000;
const LAB_READY_TIMEOUT_MS = 60_000;
const FAKE_LLM_START_TIMEOUT_MS = 30_000;
/** The variable holding the model's key for the lab (the fake takes any key). */
const LLM_KEY_ENV = 'REACTIVE_UI_LLM_KEY';

/** A file-system-safe name for a test or a step. */
export function slug(text) {
  return (
    String(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'unnamed'
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pids of the processes whose command line mentions `needle` (kernels started by our lab
 * name their connection file in its runtime dir). */
function pidsMentioning(needle) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export class UiSession {
  /** `welcomeNotebook`: the server makes a new user's welcome notebook on their first
   * visit (ReactiveNotebook.welcome_notebook); off by default, so that it does not open
   * over the specs' tabs (spec 25 starts a session of its own with it on). */
  constructor({ welcomeNotebook = false } = {}) {
    this.welcomeNotebook = welcomeNotebook;
    this.token = randomBytes(24).toString('hex');
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reactive-ui-'));
    this.rootDir = path.join(this.tmp, 'notebooks');
    this.labLog = path.join(this.tmp, 'lab.log');
    this.lab = null;
    this.fakeLlm = null; // the fake model server's process
    this.fakeLlmUrl = null; // its URL: the lab's llm_base_url, and its control API /_fake/...
    this.browser = null;
    this.port = null;
    this.baseUrl = null;
    this.contexts = new Set();
    this.context = null; // shared by every page (newPage)
    this.stopped = false;
    this._onExit = () => this._killNow();
  }

  async start() {
    process.on('exit', this._onExit);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => {
        this._killNow();
        process.exit(130);
      });
    }
    // Not emptied here: the other lane writes there too (make test-ui empties it first).
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await Promise.all([this._startLab(), this._startBrowser()]);
  }

  async _startLab() {
    const jupyter = path.join(VENV, 'bin', 'jupyter');
    if (!fs.existsSync(jupyter)) throw new Error(`${jupyter} is missing: run make (the venv) first`);
    for (const dir of ['notebooks', 'config/labconfig', 'data', 'runtime', 'settings', 'workspaces']) {
      fs.mkdirSync(path.join(this.tmp, dir), { recursive: true });
    }
    // The announcements plugin would ask about news in a toast over every screenshot; the
    // build check (is the JupyterLab build up to date?) costs the server a second of work
    // per page load and never applies to a pip-installed JupyterLab.
    fs.writeFileSync(
      path.join(this.tmp, 'config', 'labconfig', 'page_config.json'),
      JSON.stringify({
        disabledExtensions: { '@jupyterlab/apputils-extension:announcements': true },
        buildCheck: false,
        buildAvailable: false,
      }),
    );
    await this._startFakeLlm();
    this.port = await freePort();
    this.baseUrl = `http://${HOST}:${this.port}/`;
    const args = [
      'lab',
      '--no-browser',
      `--ServerApp.ip=${HOST}`,
      `--ServerApp.port=${this.port}`,
      '--ServerApp.port_retries=0',
      `--ServerApp.root_dir=${this.rootDir}`,
      '--ServerApp.contents_manager_class=reactive_notebook.contents.atomic.AtomicFileContentsManager',
      '--ServerApp.allow_unauthenticated_access=False',
      `--IdentityProvider.token=${this.token}`,
      '--LabApp.news_url=None',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
      '--LabApp.extension_manager=readonly',
      `--LabApp.user_settings_dir=${path.join(this.tmp, 'settings')}`,
      `--LabApp.workspaces_dir=${path.join(this.tmp, 'workspaces')}`,
      '--ReactiveNotebook.llm_provider=anthropic',
      `--ReactiveNotebook.llm_base_url=${this.fakeLlmUrl}`,
      `--ReactiveNotebook.llm_api_key_env=${LLM_KEY_ENV}`,
      '--ReactiveNotebook.llm_model=fake-model',
      '--ReactiveNotebook.llm_max_retries=0', // a scripted error is the chat's error at once
      // No welcome notebook opening over the specs' tabs on the first page load.
      `--ReactiveNotebook.welcome_notebook=${this.welcomeNotebook ? 'True' : 'False'}`,
    ];
    if (process.getuid && process.getuid() === 0) args.push('--allow-root');
    const log = fs.openSync(this.labLog, 'w');
    this.lab = spawn(jupyter, args, {
      cwd: this.tmp,
      detached: true, // its own process group: stop() ends lab and whatever it started
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        JUPYTER_CONFIG_DIR: path.join(this.tmp, 'config'),
        JUPYTER_DATA_DIR: path.join(this.tmp, 'data'),
        JUPYTER_RUNTIME_DIR: path.join(this.tmp, 'runtime'),
        IPYTHONDIR: path.join(this.tmp, 'ipython'),
        MPLCONFIGDIR: path.join(this.tmp, 'matplotlib'),
        [LLM_KEY_ENV]: 'ui-test-key',
      },
    });
    fs.closeSync(log);
    let exited = null;
    this.lab.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    const deadline = Date.now() + LAB_START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(`jupyter lab exited (${JSON.stringify(exited)}) before it was up:\n${this.labLogTail()}`);
      }
      try {
        const response = await fetch(new URL('reactive/health', this.baseUrl), { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
    throw new Error(
      `jupyter lab did not answer /reactive/health within ${LAB_START_TIMEOUT_MS} ms:\n${this.labLogTail()}`,
    );
  }

  /** Starts the fake model server (`python tests/agent/fake_llm.py --port 0`, from the
   * venv) and reads the URL it prints. */
  async _startFakeLlm() {
    const python = path.join(VENV, 'bin', 'python');
    const script = path.join(REPO_ROOT, 'tests', 'agent', 'fake_llm.py');
    this.fakeLlmLog = path.join(this.tmp, 'fake-llm.log');
    const log = fs.openSync(this.fakeLlmLog, 'w');
    this.fakeLlm = spawn(python, [script, '--port', '0'], {
      cwd: REPO_ROOT,
      detached: true, // its own process group, like the lab's
      stdio: ['ignore', 'pipe', log],
    });
    fs.closeSync(log);
    const fake = this.fakeLlm;
    this.fakeLlmUrl = await new Promise((resolve, reject) => {
      let out = '';
      const fail = (why) => {
        clearTimeout(timer);
        reject(new Error(`the fake LLM server ${why}:\n${out}${fs.readFileSync(this.fakeLlmLog, 'utf8')}`));
      };
      const timer = setTimeout(
        () => fail(`printed no URL within ${FAKE_LLM_START_TIMEOUT_MS} ms`),
        FAKE_LLM_START_TIMEOUT_MS,
      );
      fake.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was up`));
      fake.once('error', (error) => fail(`did not start (${error.message})`));
      fake.stdout.setEncoding('utf8');
      fake.stdout.on('data', (chunk) => {
        out += chunk;
        const line = out.match(/^(http:\/\/\S+)\n/);
        if (line) {
          clearTimeout(timer);
          fake.removeAllListeners('exit');
          resolve(line[1]);
        }
      });
    });
  }

  async _stopFakeLlm() {
    const fake = this.fakeLlm;
    if (!fake || fake.exitCode !== null || fake.signalCode !== null) return;
    const exited = new Promise((resolve) => fake.once('exit', resolve));
    killGroup(fake.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    killGroup(fake.pid, 'SIGKILL');
  }

  /** A call of the fake model server's control API (`/_fake/replies`, `/_fake/requests`,
   * `/_fake/reset`: tests/agent/fake_llm.py). */
  async fakeLlmApi(method, relative, body) {
    const response = await fetch(new URL(relative.replace(/^\//, ''), `${this.fakeLlmUrl}/`), {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`fake LLM ${method} ${relative}: ${response.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  async _startBrowser() {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make chromium`);
    // launch() gives the browser a new, empty profile (user-data-dir) and removes it on close.
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: { ...process.env, HOME: this.tmp },
    });
  }

  labLogTail(lines = 60) {
    try {
      return fs.readFileSync(this.labLog, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no lab log)';
    }
  }

  url(relative) {
    return new URL(relative.replace(/^\//, ''), this.baseUrl).toString();
  }

  /** A REST call from Node with the token (for test setup and checks). */
  async api(method, relative, body) {
    const response = await fetch(this.url(relative), {
      method,
      headers: { Authorization: `token ${this.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    if (!response.ok) {
      throw new Error(`${method} ${relative}: ${response.status} ${text.slice(0, 500)}`);
    }
    return json;
  }

  /**
   * A new page for one test, recording what the tests assert on. Pages share one browser
   * context, so its HTTP and code caches hold JupyterLab's bundles after the first load
   * (a context per test parsed them again each time: about a third of the suite's time).
   * A test's state lives in its own workspace (`openLab`) and its own notebooks; nothing
   * the tests use is kept in the browser.
   */
  async newPage(testName) {
    if (!this.context) {
      this.context = await this.browser.newContext({ viewport: { width: 1280, height: 800 } });
      this.contexts.add(this.context);
    }
    const context = this.context;
    const page = await context.newPage();
    const record = new PageRecord(this, testName, page, context);
    page.on('console', (message) =>
      record.console.push({ type: message.type(), text: message.text(), location: message.location() }),
    );
    page.on('pageerror', (error) => record.pageErrors.push(String(error && error.stack ? error.stack : error)));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname !== HOST) {
        record.foreignRequests.push(request.url());
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) record.failedResponses.push({ status: response.status(), url: response.url() });
    });
    page.on('requestfailed', (request) => {
      record.failedRequests.push({ url: request.url(), failure: request.failure()?.errorText });
    });
    return record;
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const context of this.contexts) await context.close().catch(() => {});
    if (this.browser) await this.browser.close().catch(() => {});
    if (this.lab && this.lab.exitCode === null && this.lab.signalCode === null) {
      // A clean shutdown first: jupyter_server stops its kernels (ours included).
      await fetch(this.url('api/shutdown'), {
        method: 'POST',
        headers: { Authorization: `token ${this.token}` },
        signal: AbortSignal.timeout(5000),
      }).catch(() => {});
      await this._waitLabExit(20_000);
      if (alive(this.lab.pid)) {
        killGroup(this.lab.pid, 'SIGTERM');
        await this._waitLabExit(10_000);
      }
      killGroup(this.lab.pid, 'SIGKILL');
    }
    await this._stopFakeLlm();
    // Kernels run in sessions of their own; any left name a file in our runtime dir.
    const runtime = path.join(this.tmp, 'runtime');
    for (let attempt = 0; attempt < 20 && pidsMentioning(runtime).length; attempt++) {
      if (attempt === 0) for (const pid of pidsMentioning(runtime)) killGroup(pid, 'SIGTERM');
      await sleep(250);
    }
    for (const pid of pidsMentioning(runtime)) process.kill(pid, 'SIGKILL');
    process.removeListener('exit', this._onExit);
    if (!process.env.KEEP_UI_TMP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  async _waitLabExit(ms) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.lab.exitCode === null && this.lab.signalCode === null) await sleep(100);
  }

  /** Last resort at process exit (synchronous): no lab, kernel or browser outlives us. */
  _killNow() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.lab) killGroup(this.lab.pid, 'SIGKILL');
    if (this.fakeLlm) killGroup(this.fakeLlm.pid, 'SIGKILL');
    for (const pid of pidsMentioning(path.join(this.tmp, 'runtime'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const browserPid = this.browser?.process?.()?.pid;
    if (browserPid) killGroup(browserPid, 'SIGKILL');
    try {
      execFileSync('rm', ['-rf', this.tmp]);
    } catch {
      // best effort
    }
  }
}

/** One test's page, with what it logged and requested, and its screenshots. */
export class PageRecord {
  constructor(session, testName, page, context) {
    this.session = session;
    this.testName = testName;
    this.dir = path.join(ARTIFACTS, slug(testName));
    fs.rmSync(this.dir, { recursive: true, force: true }); // this run's screenshots only
    this.page = page;
    this.context = context;
    this.console = [];
    this.pageErrors = [];
    this.foreignRequests = [];
    this.failedResponses = [];
    this.failedRequests = [];
    this.step = 0;
    PageRecord.count += 1;
    this.workspace = `ui-${PageRecord.count}-${slug(testName).slice(0, 40)}`;
  }

  static count = 0;

  /** A screenshot of the whole page as test-artifacts/ui/<test>/<NN>-<step>.png. */
  async screenshot(step) {
    fs.mkdirSync(this.dir, { recursive: true });
    this.step += 1;
    const file = path.join(this.dir, `${String(this.step).padStart(2, '0')}-${slug(step)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Opens JupyterLab with the token in a workspace of this page's own (new and empty:
   * JupyterLab keeps workspaces on the server, so /lab would reopen the tabs an earlier
   * test left open) and waits for its shell. `relative`: a path under it, e.g. tree/a.ipynb.
   * `baseUrl`: where the lab is reached, if not directly (e.g. through a relay, proxy.mjs). */
  async openLab(relative = '', { baseUrl = this.session.baseUrl } = {}) {
    const url = new URL(`lab/workspaces/${this.workspace}/${relative}`, baseUrl);
    url.searchParams.set('reset', '');
    url.searchParams.set('token', this.session.token);
    await this.page.goto(url.toString(), { waitUntil: 'domcontentloaded' });
    await waitForLab(this.page);
  }

  /** Asks JupyterLab's file browser to list the folder again now (it polls slowly). */
  async refreshFileBrowser() {
    await this.page.locator('.jp-FileBrowser-toolbar [data-command="filebrowser:refresh"]').first().click();
  }

  /** The page's console errors (and uncaught exceptions) as text. */
  errors() {
    return [
      ...this.console.filter((m) => m.type === 'error').map((m) => `${m.text} (${m.location?.url ?? ''})`),
      ...this.pageErrors,
    ];
  }

  /** Writes what the page logged next to its screenshots (for a failed run). */
  saveLog() {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(
      path.join(this.dir, 'page-log.json'),
      JSON.stringify(
        {
          console: this.console,
          pageErrors: this.pageErrors,
          failedResponses: this.failedResponses,
          failedRequests: this.failedRequests,
          foreignRequests: this.foreignRequests,
        },
        null,
        2,
      ),
    );
  }

  async close() {
    this.saveLog();
    // Leave the page first, so its WebSockets (JupyterLab's event stream, the notebook's)
    // close with a handshake the server sees at once; a dropped page can leave the server
    // writing an event to a half-closed socket (see suite.mjs's log check).
    await this.page.goto('about:blank', { timeout: 5000 }).catch(() => {});
    await this.page.close().catch(() => {});
  }
}

/** Waits until JupyterLab's shell is up: splash gone, the main dock panel and the file
 * browser shown, and the application restored. */
export async function waitForLab(page) {
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached', timeout: LAB_READY_TIMEOUT_MS });
  await page.waitForSelector('#jp-main-dock-panel', { state: 'visible', timeout: LAB_READY_TIMEOUT_MS });
  await page.waitForSelector('.jp-DirListing-content', { state: 'visible', timeout: LAB_READY_TIMEOUT_MS });
}
