// session.js follows docs/editors.md's first session, on programs/threads/race.s, in a real VS Code
// (code-server) that a headless Chromium shows, as a new user would: it opens the folder and
// the file, makes launch.json and adds the Spindle: Launch snippet, sets the breakpoint in the
// gutter with its condition, and debugs, with the keyboard, the command palette and the
// workbench's own buttons. It checks what the doc says the user sees at each stop (the line, the
// threads' names, a register, the console's answers, where Step Back and Reverse Continue go)
// and fails at the first difference. Then it debugs a program that traps, with the configuration
// launch.json starts with, Debug the current file.
//
// run.sh installs what it needs and runs it; README.md says how.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const opts = parseArgs(process.argv.slice(2));
const work = opts.work;
const ws = path.join(work, 'ws');
const launchJSON = path.join(ws, '.vscode/launch.json');

// The window: wide enough for race.s's comments beside the side bar, whose call stack shows
// each thread's name beside its state.
const W = 1440, H = 860;

let page;
let passed = 0;

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!['code-server', 'chromium', 'vsix', 'spindle', 'repo', 'work', 'shots'].includes(name) || i + 1 >= argv.length) {
      throw new Error(`session.js: unknown or incomplete flag ${argv[i]}`);
    }
    o[name] = path.resolve(argv[i + 1]);
  }
  for (const name of ['code-server', 'chromium', 'vsix', 'spindle', 'repo', 'work']) {
    if (!o[name]) throw new Error(`session.js: --${name} is required`);
  }
  return o;
}

// ok counts a check that passed, and keeps the window as it was then in WORK/steps.
async function ok(what) {
  passed++;
  console.log(`ok ${passed} - ${what}`);
  await page.screenshot({ path: path.join(work, 'steps', `${passed}.png`) });
  for (const t of await texts('.notifications-toasts .notification-list-item-message')) notifications.add(t);
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

// waitFor polls probe, which returns [done, what it saw], until done; the error names what it
// waited for and the last thing it saw.
async function waitFor(what, probe, timeout = 20000) {
  const end = Date.now() + timeout;
  let seen;
  for (;;) {
    let done;
    [done, seen] = await probe();
    if (done) return seen;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen, null, 1)}`);
    }
    await sleep(200);
  }
}

// press presses a chord such as 'Control+Shift+KeyD'.
async function press(chord) {
  const keys = chord.split('+');
  for (const k of keys.slice(0, -1)) await page.keyboard.down(k);
  await page.keyboard.press(keys[keys.length - 1]);
  for (const k of keys.slice(0, -1).reverse()) await page.keyboard.up(k);
}

const labels = sel => page.$$eval(sel, els => els.map(e => e.getAttribute('aria-label')));
const texts = sel => page.$$eval(sel, els => els.map(e => e.innerText));

// typeInQuickInput types text into the quick input once it has the focus, and waits for the
// input to hold it (after the > of the palette).
async function typeInQuickInput(text) {
  const input = '.quick-input-widget .quick-input-box input';
  await page.waitForSelector(input, { visible: true });
  await waitFor('the focus in the quick input', async () => {
    const focused = await page.evaluate(s => document.activeElement === document.querySelector(s), input);
    return [focused, focused];
  });
  await page.keyboard.type(text);
  await waitFor(`the quick input to hold ${text}`, async () => {
    const v = await page.$eval(input, e => e.value);
    return [v.endsWith(text), v];
  });
}

async function quickInput(open, text, first) {
  await press(open);
  await typeInQuickInput(text);
  await waitFor(`"${first}" first in the list of ${text}`, async () => {
    const l = await labels('.quick-input-widget .monaco-list-row');
    return [l.length > 0 && (l[0] === first || l[0].startsWith(first + ',') || l[0].startsWith(first + ' ')), l.slice(0, 4)];
  });
  await page.keyboard.press('Enter');
  await sleep(300);
}

// command runs a command of the palette by its title, which must be the first match.
const command = title => quickInput('F1', title, title);

async function openFile(rel) {
  await quickInput('Control+KeyP', rel, path.basename(rel));
  await waitFor(`${rel} in the editor`, async () => {
    const t = await texts('.tab.active .label-name');
    return [t.includes(path.basename(rel)), t];
  });
}

async function goToLine(n) {
  await press('Control+KeyG');
  await typeInQuickInput(String(n));
  await page.keyboard.press('Enter');
  await sleep(500);
}

// chooseConfiguration chooses a launch configuration in the drop-down of Run and Debug.
async function chooseConfiguration(name) {
  const sel = '.start-debug-action-item select';
  await waitFor(`${name} in the drop-down of Run and Debug`, async () => {
    const o = await page.$eval(sel, s => [...s.options].map(o => o.value));
    return [o.includes(name), o];
  });
  await page.select(sel, name);
  await waitFor(`${name} chosen`, async () => {
    const v = await page.$eval(sel, s => s.value);
    return [v === name, v];
  });
}

const callStack = () => labels('.debug-call-stack .monaco-list-row');

// stopped waits for the call stack to hold each of the rows given (aria labels, in order).
async function stopped(what, ...rows) {
  return waitFor(what, async () => {
    const l = await callStack();
    let i = 0;
    for (const row of l) {
      if (i < rows.length && (rows[i] instanceof RegExp ? rows[i].test(row) : row === rows[i])) i++;
    }
    return [i === rows.length, l];
  });
}

// variables returns the rows of the Variables view, all of them: the view shows only those that
// fit, so it scrolls through it.
async function variables() {
  const list = await page.$('.debug-variables .monaco-list');
  const box = await list.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const rows = new Map();
  for (let i = 0; i < 30; i++) {
    const seen = await page.$$eval('.debug-variables .monaco-list-row',
      els => els.map(e => [Number(e.dataset.index), e.getAttribute('aria-label')]));
    const before = rows.size;
    for (const [index, label] of seen) rows.set(index, label);
    if (i > 0 && rows.size === before) break;
    await page.mouse.wheel({ deltaY: box.height / 2 });
    await sleep(150);
  }
  await page.mouse.wheel({ deltaY: -100000 });
  await sleep(150);
  return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1]);
}

// scope expands the scope of the Variables view named, collapses the others, and returns its
// variables as name: value.
async function scope(name) {
  const scopes = ['Registers', 'Locals', 'Thread context'];
  await waitFor('the scopes Registers, Locals and Thread context', async () => {
    const l = await variables();
    return [scopes.every(s => l.includes(`Scope ${s}`)), l];
  });
  // All collapsed first, from the top, so that each scope is in view when its turn comes.
  for (const [s, want] of [...scopes.map(s => [s, false]), [name, true]]) {
    const sel = `.debug-variables .monaco-list-row[aria-label="Scope ${s}"]`;
    const expanded = () => page.$eval(sel, e => e.getAttribute('aria-expanded') === 'true');
    await waitFor(`the scope ${s} in view`, async () => [!!(await page.$(sel)), s]);
    if ((await expanded()) !== want) {
      const twistie = await page.$(`${sel} .monaco-tl-twistie`);
      await twistie.click();
      await waitFor(`the scope ${s} ${want ? 'expanded' : 'collapsed'}`, async () => [(await expanded()) === want, s]);
    }
  }
  return waitFor(`the variables of ${name}`, async () => {
    const l = await variables();
    const i = l.indexOf(`Scope ${name}`);
    const vars = {};
    for (const row of l.slice(i + 1)) {
      if (row.startsWith('Scope ')) break;
      const m = /^(.*?), value (.*)$/s.exec(row);
      if (m) vars[m[1]] = m[2];
    }
    return [Object.keys(vars).length > 0, vars];
  });
}

// repl types a line into the Debug Console and returns what the console shows after it.
async function repl(line) {
  const replRows = async () => page.$$eval('.repl .monaco-list-row',
    els => els.map(e => [Number(e.dataset.index), e.innerText.replace(/\n$/, '')]));
  const before = Math.max(-1, ...(await replRows()).map(r => r[0]));
  await page.click('.repl-input-wrapper');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  return waitFor(`the Debug Console's answer to ${line}`, async () => {
    const rows = (await replRows()).filter(r => r[0] > before).sort((a, b) => a[0] - b[0]).map(r => r[1]);
    // The answer's row shows the line itself until the answer comes.
    const i = rows.indexOf(line);
    return [i >= 0 && i + 1 < rows.length && rows[i + 1] !== line, rows.slice(i + 1)];
  });
}

async function replShows(what, want) {
  return waitFor(what, async () => {
    const rows = (await texts('.repl .monaco-list-row')).map(t => t.replace(/\n$/, ''));
    return [rows.some(r => r.includes(want)), rows.slice(-8)];
  });
}

async function toolbar(label) {
  const b = await page.$(`.debug-toolbar .action-label[aria-label^="${label}"]`);
  assert.ok(b, `the debug toolbar has no ${label}: ${JSON.stringify(await labels('.debug-toolbar .action-label'))}`);
  await b.click();
}

// notifications are the messages VS Code showed in its notification toasts: the session goes
// on with them, and they are listed at the end.
const notifications = new Set();

async function clearNotifications() {
  const shown = await texts('.notifications-toasts .notification-list-item-message');
  for (const t of shown) notifications.add(t);
  if (shown.length > 0) {
    await command('Notifications: Clear All Notifications');
  }
}

// shot saves the part of the window that clip returns, if --shots: clip runs in the page, and
// is given the window's width and height.
async function shot(name, clip) {
  if (!opts.shots) return;
  await clearNotifications();
  await page.mouse.move(24, H / 2); // the activity bar's empty middle: no hover, no tooltip
  await sleep(700);
  const rect = await page.evaluate(clip, W, H);
  // Not beyond the viewport: puppeteer would resize the page for it, and VS Code would lay the
  // workbench out again, narrower.
  await page.screenshot({ path: path.join(opts.shots, name), clip: rect, captureBeyondViewport: false });
  console.log(`   wrote ${path.join(opts.shots, name)}`);
}

// jsonc parses launch.json, which has comments.
const jsonc = s => JSON.parse(s.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[\]}])/g, '$1'));

function prepare() {
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  const files = execFileSync('git', ['-C', opts.repo, 'ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    const src = path.join(opts.repo, f);
    if (!fs.existsSync(src)) continue;
    fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
    fs.copyFileSync(src, path.join(ws, f));
  }
  fs.copyFileSync(path.join(__dirname, 'trap.s'), path.join(ws, 'trap.s'));

  const data = path.join(work, 'data');
  const ext = path.join(work, 'extensions');
  fs.rmSync(data, { recursive: true, force: true });
  fs.rmSync(ext, { recursive: true, force: true });
  fs.mkdirSync(path.join(data, 'User'), { recursive: true });
  // Only what keeps the first start quiet: no trust prompt, no welcome page, no telemetry.
  fs.writeFileSync(path.join(data, 'User/settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    // VS Code runs the adapter with the PATH of a login shell, not with its own: name the
    // spindle that run.sh built, which logs the protocol.
    'spindle.path': opts.spindle,
  }, null, 2));
  fs.writeFileSync(path.join(work, 'code-server.yaml'), 'auth: none\n');
  fs.rmSync(path.join(work, 'dap.log'), { force: true });
  execFileSync(opts['code-server'], ['--config', path.join(work, 'code-server.yaml'), '--user-data-dir', data,
    '--extensions-dir', ext, '--install-extension', opts.vsix], { stdio: 'inherit' });
  return { data, ext };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startCodeServer({ data, ext }) {
  const port = await freePort();
  const log = fs.openSync(path.join(work, 'code-server.log'), 'w');
  const cs = spawn(opts['code-server'], ['--config', path.join(work, 'code-server.yaml'), '--user-data-dir', data,
    '--extensions-dir', ext, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', ws], { stdio: ['ignore', log, log], detached: true });
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
  await waitFor('code-server to listen', async () => {
    const s = fs.readFileSync(path.join(work, 'code-server.log'), 'utf8');
    return [s.includes('HTTP server listening'), s.slice(-400)];
  }, 60000);
  return { cs, url };
}

async function session(url) {
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench .explorer-folders-view', { timeout: 60000 });
  await ok('code-server shows the workbench, with the folder open');

  // 1. The file, highlighted.
  await openFile('programs/threads/race.s');
  await waitFor('the status bar to name the language Spindle assembly', async () => {
    const t = await texts('.statusbar-item');
    return [t.includes('Spindle assembly'), t];
  });
  await goToLine(40);
  const classes = await waitFor('line 40 in colours', async () => {
    const c = await page.$$eval('.view-line', lines => {
      const l = lines.find(e => e.textContent.startsWith('.loop:'));
      return l ? [...l.querySelectorAll('span > span')].filter(s => s.textContent.trim()).map(s => s.className) : [];
    });
    return [new Set(c).size >= 4, c];
  });
  await ok(`race.s is Spindle assembly, highlighted: line 40 has ${new Set(classes).size} colours`);

  // 2. launch.json: create it, then add the snippet Spindle: Launch.
  await press('Control+Shift+KeyD');
  const create = await page.waitForSelector('xpath/.//a[contains(., "create a launch.json file")]', { visible: true });
  await create.click();
  await sleep(1000);
  // VS Code asks which debugger when the file in the editor does not name one.
  const picker = await labels('.quick-input-widget:not([style*="display: none"]) .monaco-list-row');
  if (picker.some(l => l && l.startsWith('Spindle'))) {
    await page.keyboard.type('Spindle');
    await page.keyboard.press('Enter');
  }
  await waitFor('launch.json with Debug the current file', async () => {
    const s = fs.existsSync(launchJSON) ? fs.readFileSync(launchJSON, 'utf8') : '';
    return [s.includes('Debug the current file'), s];
  });
  await page.keyboard.press('Escape');
  await ok('create a launch.json file writes the configuration Debug the current file');

  await command('Debug: Add Configuration...');
  await page.waitForSelector('.suggest-widget .monaco-list-row', { visible: true });
  await page.keyboard.type('Spindle');
  await waitFor('the snippet Spindle: Launch', async () => {
    const l = await labels('.suggest-widget .monaco-list-row');
    return [l.length > 0 && l[0].startsWith('Spindle: Launch'), l];
  });
  await page.keyboard.press('Enter');
  await sleep(300);
  await page.keyboard.press('Escape');
  await press('Control+KeyS');
  const configs = await waitFor('launch.json with Debug race.s', async () => {
    const s = fs.readFileSync(launchJSON, 'utf8');
    try {
      return [jsonc(s).configurations.some(c => c.name === 'Debug race.s'), jsonc(s).configurations];
    } catch {
      return [false, s];
    }
  });
  const doc = fs.readFileSync(path.join(opts.repo, 'docs/editors.md'), 'utf8');
  const docConfig = JSON.parse(/```json\n([^`]*"name": "Debug race.s"[^`]*)```/.exec(doc)[1]);
  assert.deepEqual(configs.find(c => c.name === 'Debug race.s'), docConfig,
    'the snippet Spindle: Launch writes the configuration docs/editors.md shows');
  await ok('Add Configuration... > Spindle: Launch writes the configuration of docs/editors.md');

  await chooseConfiguration('Debug race.s');
  await ok('Debug race.s is chosen in the Run and Debug drop-down');

  // 3. The breakpoint: a click in the gutter, then Edit Breakpoint... and its condition.
  await openFile('programs/threads/race.s');
  await goToLine(44);
  const at = await page.evaluate(() => {
    const n = [...document.querySelectorAll('.editor-instance .margin-view-overlays .line-numbers')]
      .find(e => e.textContent.trim() === '44').getBoundingClientRect();
    const g = document.querySelector('.editor-instance .glyph-margin').getBoundingClientRect();
    return { x: g.left + g.width / 2, y: n.top + n.height / 2 };
  });
  await page.mouse.click(at.x, at.y);
  const glyph = '.editor-instance .codicon-debug-breakpoint';
  await page.waitForSelector(glyph, { visible: true });
  await page.click(glyph, { button: 'right' });
  const edit = await page.waitForSelector('xpath/.//*[contains(@class,"action-label") and normalize-space(.)="Edit Breakpoint..."]', { visible: true });
  // The menu takes the item under the mouse at Enter (a click of puppeteer's is lost on it).
  await edit.hover();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.breakpoint-widget', { visible: true });
  const kind = await page.$eval('.breakpoint-widget select', s => s.options[s.selectedIndex].text);
  assert.equal(kind, 'Expression', 'Edit Breakpoint... offers Expression first');
  await waitFor('the focus in the breakpoint widget', async () => {
    const inside = await page.evaluate(() => !!document.activeElement?.closest('.breakpoint-widget'));
    return [inside, inside];
  });
  await page.keyboard.type('*counter + 1 != t2');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.editor-instance .codicon-debug-breakpoint-conditional', { visible: true });
  const bps = await texts('.debug-breakpoints .monaco-list-row');
  assert.ok(bps.some(b => /race\.s[\s\S]*44/.test(b)), `the Breakpoints view lists race.s:44: ${JSON.stringify(bps)}`);
  await ok('a click in the gutter at line 44 and Edit Breakpoint... make a conditional breakpoint');
  await shot('editor.png', () => {
    const e = document.querySelector('.editor-instance').getBoundingClientRect();
    return { x: e.left, y: e.top, width: Math.min(e.width, 860), height: Math.min(e.height, 400) };
  });

  // 4. F5: the stop on entry, then the breakpoint.
  await page.keyboard.press('F5');
  await stopped('the stop on entry, at main', 'Stack Frame main, line 50, race.s');
  const header = await texts('.debug-call-stack, .pane-header');
  assert.ok(header.some(t => t.includes('Paused on entry')), `Paused on entry: ${JSON.stringify(header)}`);
  await ok('F5 stops on entry, at main (line 50), Paused on entry');

  await page.keyboard.press('F5');
  const stack = await stopped('1.2 at the breakpoint, line 44',
    /^Thread 1\.1 /, 'Thread 1.2 Paused on breakpoint', 'Stack Frame worker, line 44, race.s', /^Thread 1\.3 /);
  const threads = stack.filter(l => l.startsWith('Thread ')).map(l => l.split(' ')[1]);
  assert.deepEqual(threads, ['1.1', '1.2', '1.3'], 'the threads, named process.thread');
  await ok('F5 again: thread 1.2 Paused on breakpoint at line 44; the threads are 1.1, 1.2, 1.3');

  const regs = await scope('Registers');
  assert.equal(regs.t2, '0x203 (515)', 'Registers: t2');
  const scopes = (await variables()).filter(l => l.startsWith('Scope '));
  assert.deepEqual(scopes, ['Scope Registers', 'Scope Locals', 'Scope Thread context']);
  await ok('Variables: the scopes Registers, Locals, Thread context; t2 = 0x203 (515)');
  await shot('breakpoint.png', (W, H) => ({ x: 0, y: 0, width: W - 220, height: H }));

  // 5. The Debug Console.
  const counter = await repl('*counter');
  assert.equal(counter[0], '1087 (0x43f)', 'the Debug Console: *counter at the lost update');
  await ok('the Debug Console: *counter is 1087 (0x43f)');

  // 6. Step Back, twice: the second goes back across the context switch.
  await command('Debug: Step Back');
  await stopped('Step Back to line 42', 'Thread 1.2 Paused on step', 'Stack Frame worker, line 42, race.s');
  await ok('Debug: Step Back, from the command palette: line 42, the add');
  await toolbar('Step Back');
  await stopped('Step Back to line 40', 'Thread 1.2 Paused on step', 'Stack Frame worker, line 40, race.s');
  const ctx = await scope('Thread context');
  assert.equal(ctx['step of the run'], '2593', 'Thread context: step of the run, after the two steps back');
  assert.equal(ctx.thread, '1.2');
  await replShows('[back at step 2593] in the Debug Console', '[back at step 2593]');
  assert.equal((await repl('*counter'))[0], '514 (0x202)', '*counter at the load');
  await ok('the toolbar\'s Step Back: line 40, the load, at step 2593 of the run, across the switch');
  await shot('step-back.png', (W, H) => ({ x: 0, y: 0, width: W - 220, height: H }));

  // 7. The watchpoint, forward and back.
  const watch = await repl('watch counter');
  assert.match(watch[0], /^Watchpoint 2: 8 bytes at 0x10000000 <counter>/);
  await page.keyboard.press('F5');
  await stopped('the next write of the counter, thread 1.3\'s store',
    /^Thread 1\.3 .*data breakpoint/i, 'Stack Frame worker, line 46, race.s');
  assert.match((await repl('frame'))[0], /^\[step 2599\]/, 'the data breakpoint: thread 1.3\'s store at step 2599');
  await ok('watch counter, Continue: thread 1.3 stops after its store, at step 2599');
  await shot('watchpoint.png', (W, H) => ({ x: 0, y: 0, width: W - 220, height: H }));
  await toolbar('Reverse');
  await stopped('Reverse Continue to thread 1.2\'s store', /^Thread 1\.2 .*data breakpoint/i, 'Stack Frame worker, line 46, race.s');
  await replShows('[back at step 2591] in the Debug Console', '[back at step 2591]');
  await ok('Reverse Continue: thread 1.2\'s own store, at step 2591');
  await toolbar('Stop');
  await page.waitForSelector('.debug-toolbar', { hidden: true });

  // A trap, with the configuration launch.json began with.
  await openFile('trap.s');
  await chooseConfiguration('Debug the current file');
  await page.keyboard.press('F5');
  await stopped('the stop on entry of trap.s', 'Stack Frame main, line 5, trap.s');
  await page.keyboard.press('F5');
  await stopped('the trap at line 8', 'Stack Frame main, line 8, trap.s');
  const exc = await page.waitForSelector('.exception-widget', { visible: true });
  const report = await exc.evaluate(e => e.innerText);
  assert.match(report, /Exception has occurred: memory access out of bounds/);
  await ok('Debug the current file on trap.s: the trap is shown as an exception at line 8');
  await shot('trap.png', (W, H) => {
    const e = document.querySelector('.editor-instance').getBoundingClientRect();
    return { x: 0, y: 0, width: W, height: Math.min(H, e.top + 260) };
  });
  await toolbar('Step Back');
  await stopped('Step Back from the trap to line 7', 'Stack Frame main, line 7, trap.s');
  await ok('Step Back from the trap: line 7');
  await page.keyboard.press('F5');
  await stopped('Continue to the trap again', 'Stack Frame main, line 8, trap.s');
  await page.keyboard.press('F5');
  await page.waitForSelector('.debug-toolbar', { hidden: true, timeout: 20000 });
  await ok('Continue at the trap ends the session');
}

async function main() {
  if (opts.shots) fs.mkdirSync(opts.shots, { recursive: true });
  fs.rmSync(path.join(work, 'steps'), { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'steps'), { recursive: true });
  const dirs = prepare();
  const { cs, url } = await startCodeServer(dirs);
  const browser = await puppeteer.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    defaultViewport: { width: W, height: H },
  });
  let failed = 0;
  try {
    page = await browser.newPage();
    await session(url);
  } catch (err) {
    failed = 1;
    console.log(`not ok ${passed + 1} - ${err.message}`);
    const png = path.join(work, 'failure.png');
    await page?.screenshot({ path: png }).catch(() => {});
    console.log(`# the window as it was: ${png}`);
    const log = path.join(work, 'dap.log');
    if (fs.existsSync(log)) {
      console.log(`# the last messages of the protocol (${log}):`);
      console.log(fs.readFileSync(log, 'utf8').split('\n').slice(-15).map(l => `#   ${l.slice(0, 300)}`).join('\n'));
    }
  } finally {
    await browser.close();
    process.kill(-cs.pid);
  }
  for (const n of notifications) console.log(`# VS Code notified: ${n}`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exitCode = failed;
}

main().catch(err => {
  console.error(err);
  process.exitCode = 1;
});
