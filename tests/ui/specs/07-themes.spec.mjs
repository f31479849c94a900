// Issue 6: the Reactive Notebook follows JupyterLab's theme. The theme is switched the way a
// user does it (Settings menu, Theme), the widget is screenshot with a success, an error, a
// blocked cell and a table in each theme, and its computed colours are checked against the
// --jp-* variables the stylesheet names (labextension/style/base.css), which must differ
// between the light and the dark theme. The light theme is restored afterwards.
// (That the stylesheets hold no hard-coded colour at all: ../style-colours.test.mjs.)
import assert from 'node:assert/strict';

import { session } from '../session.mjs';
import { API, TIMEOUT, expectStatus, makeNotebook, openReactive, putLabSettings, widgetTest } from '../widget.mjs';

const LIGHT = 'JupyterLab Light';
const DARK = 'JupyterLab Dark';
const HIGH_CONTRAST = 'JupyterLab Dark High Contrast';

/** Element (selector inside the visible notebook), CSS property, and the --jp-* variable
 * base.css gives it. */
const CHECKS = [
  ['', 'backgroundColor', '--jp-layout-color0'],
  ['', 'color', '--jp-content-font-color1'],
  ['.jp-ReactiveCell-meta', 'color', '--jp-ui-font-color2'],
  ['.jp-ReactiveCell[data-status="success"] .jp-ReactiveCell-status', 'color', '--jp-success-color1'],
  ['.jp-ReactiveCell[data-status="error"] .jp-ReactiveCell-status', 'color', '--jp-error-color1'],
  ['.jp-ReactiveCell[data-status="blocked"] .jp-ReactiveCell-status', 'color', '--jp-warn-color1'],
  ['.jp-ReactiveCell[data-status="blocked"] .jp-ReactiveCell-reason', 'color', '--jp-warn-color0'],
  ['.jp-ReactiveCell-editor', 'backgroundColor', '--jp-cell-editor-background'],
  ['.jp-ReactiveTable th', 'backgroundColor', '--jp-layout-color2'],
  ['.jp-ReactiveTable-note', 'color', '--jp-ui-font-color2'],
];

/** For each check: the element's computed colour and the colour its variable resolves to
 * (a probe element styled with `var(...)` in the same place, so both are computed alike). */
async function colours(page) {
  return page.page.evaluate((checks) => {
    const root = [...document.querySelectorAll('.jp-ReactiveNotebook')].find((n) => n.offsetParent !== null);
    return checks.map(([selector, property, variable]) => {
      const element = selector ? root.querySelector(selector) : root;
      if (!element) return { selector, property, variable, defined: false, actual: null, expected: null };
      const probe = document.createElement('div');
      probe.style.display = 'none';
      probe.style[property] = `var(${variable})`;
      element.parentElement.appendChild(probe);
      const expected = getComputedStyle(probe)[property];
      probe.remove();
      const defined = getComputedStyle(element).getPropertyValue(variable).trim() !== '';
      return {
        selector: selector || '.jp-ReactiveNotebook',
        property,
        variable,
        defined,
        actual: getComputedStyle(element)[property],
        expected,
      };
    });
  }, CHECKS);
}

function assertFollowsTheme(found, theme) {
  for (const c of found) {
    assert.ok(c.actual, `${theme}: ${c.selector} is missing`);
    assert.ok(c.defined, `${theme}: ${c.variable} is not set`);
    assert.equal(c.actual, c.expected, `${theme}: ${c.selector} ${c.property} should be var(${c.variable})`);
  }
}

/** Switches the theme from JupyterLab's Settings menu, as a user does, and waits for it. */
async function switchTheme(page, name) {
  await page.page.locator('.lm-MenuBar-item', { hasText: /^Settings$/ }).click();
  await page.page.locator('.lm-Menu-item', { hasText: /^Theme/ }).hover();
  await page.page.locator('.lm-Menu-item', { hasText: new RegExp(`^${name}$`) }).click();
  await page.page.waitForFunction((n) => document.body.dataset.jpThemeName === n, name, { timeout: TIMEOUT });
  // JupyterLab shows its splash while it loads a theme.
  await page.page.waitForSelector('#jupyterlab-splash', { state: 'detached', timeout: TIMEOUT });
  // The theme's stylesheet is in once its variables apply.
  await page.page.waitForFunction(
    (light) => {
      const bg = getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim();
      return bg && document.body.dataset.jpThemeLight === String(light);
    },
    name === LIGHT,
    { timeout: TIMEOUT },
  );
  await page.page.keyboard.press('Escape');
}

async function themeNames(page) {
  await page.page.locator('.lm-MenuBar-item', { hasText: /^Settings$/ }).click();
  await page.page.locator('.lm-Menu-item', { hasText: /^Theme/ }).hover();
  const light = page.page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${LIGHT}$`) });
  await light.waitFor({ timeout: TIMEOUT });
  const names = await page.page.locator('.lm-Menu', { has: light }).locator('.lm-Menu-itemLabel').allInnerTexts();
  await page.page.keyboard.press('Escape');
  await page.page.keyboard.press('Escape');
  return names.map((n) => n.trim());
}

widgetTest('themes: the widget takes its colours from the light, dark and high-contrast themes', {}, async (page) => {
  const { id, file, cellIds } = await makeNotebook('Themes', [
    't = 1',
    'u = 1 / 0',
    'v = u + 1',
    { type: 'sql', code: 'SELECT 42 AS answer', output: 'answer' },
  ]);
  for (const index of [0, 1, 3]) {
    await session.api('POST', `${API}/${id}/cells/${cellIds[index]}/run`, { wait: true });
  }
  const { cells } = await openReactive(page, file, 4);
  await expectStatus(cells.nth(0), 'success');
  await expectStatus(cells.nth(1), 'error');
  await expectStatus(cells.nth(2), 'blocked');
  await cells.nth(3).locator('.jp-ReactiveCell-outputs table', { hasText: '42' }).waitFor({ timeout: 60_000 });
  try {
    assert.equal(await page.page.evaluate(() => document.body.dataset.jpThemeName), LIGHT);
    const light = await colours(page);
    assertFollowsTheme(light, LIGHT);
    await page.screenshot('light theme');

    await switchTheme(page, DARK);
    const dark = await colours(page);
    assertFollowsTheme(dark, DARK);
    await page.screenshot('dark theme');
    for (const variable of [
      '--jp-layout-color0',
      '--jp-content-font-color1',
      '--jp-ui-font-color2',
      '--jp-cell-editor-background',
    ]) {
      const inLight = light.find((c) => c.variable === variable).actual;
      const inDark = dark.find((c) => c.variable === variable).actual;
      assert.notEqual(inLight, inDark, `${variable} is the same in light and dark (${inLight})`);
    }

    const names = await themeNames(page);
    if (names.includes(HIGH_CONTRAST)) {
      await switchTheme(page, HIGH_CONTRAST);
      const contrast = await colours(page);
      assertFollowsTheme(contrast, HIGH_CONTRAST);
      await page.screenshot('high contrast theme');
    } else {
      await page.screenshot('no high contrast theme');
      assert.fail(`${HIGH_CONTRAST} is not among the themes: ${names.join(', ')}`);
    }

    await switchTheme(page, LIGHT);
    assert.deepEqual(await colours(page), light, 'back to the light colours');
    await page.screenshot('light theme again');
  } finally {
    // Whatever happened above, the next tests start in the default (light) theme.
    await putLabSettings(null, '@jupyterlab/apputils-extension:themes', {});
  }
});
