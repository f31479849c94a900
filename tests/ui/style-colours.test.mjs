// The labextension's stylesheets take every colour from JupyterLab's --jp-* variables, so
// the widget follows the light, dark and high-contrast themes: no #hex, rgb(), hsl() (or
// any other colour function) and no named colour in a declaration's value, except as the
// fallback inside var(--jp-...). No browser needed: run with `node --test` (make test-ui).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const STYLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'labextension', 'style');

// CSS Color 4's named colours (transparent and currentColor are not fixed colours).
const NAMED = `aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson
cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta
darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray
darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick
floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey
honeydew hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon
lightblue lightcoral lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey lightpink
lightsalmon lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue lightyellow
lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple
mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue
mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown seagreen
seashell sienna silver skyblue slateblue slategray slategrey snow springgreen steelblue tan teal
thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen`.split(/\s+/);
// The system colours of CSS Color 4 (they ignore the theme as much as a fixed one does).
const SYSTEM =
  'canvas canvastext linktext visitedtext activetext buttonface buttontext buttonborder field fieldtext highlight highlighttext selecteditem selecteditemtext mark marktext graytext accentcolor accentcolortext'.split(
    ' ',
  );

const COLOUR_WORD = new RegExp(`(^|[^\\w-])(${[...NAMED, ...SYSTEM].join('|')})(?![\\w-])`, 'i');
const HEX = /#[0-9a-f]{3,8}\b/i;
const FUNCTION = /\b(rgba?|hsla?|hwb|lab|lch|oklab|oklch|color|color-mix|light-dark)\s*\(/i;

/** `text` without its var(...) expressions (with their fallbacks, nested or not): what is
 * left is what the declaration says itself. */
function withoutVars(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const match = /var\(\s*--jp-/i.exec(text.slice(i));
    if (!match) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, i + match.index);
    let depth = 0;
    let j = i + match.index;
    for (; j < text.length; j++) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')' && --depth === 0) break;
    }
    out += ' ';
    i = j + 1;
  }
  return out;
}

/** Every hard-coded colour in a stylesheet: [{line, declaration, found}]. */
export function hardCodedColours(css) {
  const problems = [];
  const noComments = css.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '));
  // A declaration: `property: value` up to `;` or `}` (selectors never contain a colon
  // followed by a value and a semicolon in our sheets; pseudo-classes end at `{`).
  const declaration = /([a-z-]+)\s*:\s*([^;{}]+)(?=[;}])/gi;
  for (const match of noComments.matchAll(declaration)) {
    const [text, , value] = match;
    // A custom property of our own set to a fixed colour counts as much as a use.
    const found =
      HEX.exec(withoutVars(value)) || FUNCTION.exec(withoutVars(value)) || COLOUR_WORD.exec(withoutVars(value));
    if (found) {
      const line = noComments.slice(0, match.index).split('\n').length;
      problems.push({ line, declaration: text.trim(), found: found[0].trim() });
    }
  }
  return problems;
}

test('the checker finds hard-coded colours and lets var(--jp-*) with fallbacks through', () => {
  const bad = `.a { color: #fff; }
.b { background: rgb(0 0 0 / 50%); }
.c { border: 1px solid red; }
.d { color: hsl(10, 20%, 30%) }
.e { --mine: Navy; }
.f { outline-color: var(--other, black); }`;
  assert.deepEqual(
    hardCodedColours(bad).map((p) => [p.line, p.found.toLowerCase()]),
    [
      [1, '#fff'],
      [2, 'rgb('],
      [3, 'red'],
      [4, 'hsl('],
      [5, 'navy'],
      [6, 'black'],
    ],
  );
  const good = `/* #fff in a comment, red too */
.a[data-kind='red'] { color: var(--jp-ui-font-color1); }
.b { background: var(--jp-layout-color0, #fff); border: 1px solid transparent; }
.c { color: var(--jp-warn-color1, var(--jp-brand-color1, rgb(1, 2, 3))); fill: currentColor; }
.d { font-family: var(--jp-code-font-family); text-align: right; white-space: pre-wrap; }`;
  assert.deepEqual(hardCodedColours(good), []);
});

test('labextension/style/*.css take every colour from --jp-* variables', () => {
  const sheets = fs.readdirSync(STYLE).filter((f) => f.endsWith('.css'));
  assert.ok(sheets.length > 0, `no stylesheets in ${STYLE}`);
  const problems = [];
  for (const sheet of sheets) {
    for (const p of hardCodedColours(fs.readFileSync(path.join(STYLE, sheet), 'utf8'))) {
      problems.push(`${sheet}:${p.line}: ${p.declaration} (${p.found})`);
    }
  }
  assert.deepEqual(problems, [], 'hard-coded colours');
});
