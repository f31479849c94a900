/**
 * What the Vega 6 renderer (vega6.ts) may do, kept apart from vega so it is cheap to
 * import and to test: its MIME types and rank, which URLs a chart may load, and which
 * embed options an output may set.
 *
 * JupyterLab 4.6 renders Vega-Lite up to v5 only; Altair 6 emits Vega-Lite 6, and without
 * a renderer for it JupyterLab shows Altair's HTML fallback, which loads vega from a CDN
 * (a broken chart offline). JupyterLab's own renderer is `safe` (it renders untrusted
 * outputs: a spec holds no script) but lets them load any URL; ours is stricter: an
 * untrusted output may only use inline data (`data:` URLs), a trusted one may also read
 * the server's files (same origin) and http(s) URLs, as its author asked for them.
 */

/** Vega-Lite 6 (Altair 6; our kernel side adds it to every Altair chart's bundle). */
export const VEGALITE6_MIME_TYPE = 'application/vnd.vegalite.v6+json';

/** Vega 6 (a compiled spec, e.g. Altair's `to_dict(format="vega")` shown raw). */
export const VEGA6_MIME_TYPE = 'application/vnd.vega.v6+json';

/**
 * Lower ranks win. JupyterLab's `text/html` is 50 (Altair's CDN fallback is HTML, in
 * the same bundle), markdown 60, its own Vega 5 renderer 57: below 50, the chart wins,
 * trusted or not (the HTML renderer is `safe` too, so it would win untrusted outputs
 * if our rank were above it).
 */
export const VEGA6_RANK = 45;

/** A URL with a scheme (`https:`, `data:`, `file:`...), or protocol-relative (`//host`). */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Where a URL in a chart points to, for the load policy. */
export type UriKind = 'inline' | 'local' | 'remote' | 'other';

/** Classifies a URL a spec asks vega to load (data, images, hrefs, a config). */
export function uriKind(uri: string): UriKind {
  const trimmed = uri.trim();
  if (trimmed.startsWith('//')) {
    return 'remote';
  }
  const scheme = SCHEME.exec(trimmed);
  if (!scheme) {
    return 'local'; // a path: a file next to the notebook, read from the server
  }
  switch (scheme[1].toLowerCase()) {
    case 'data':
      return 'inline';
    case 'http':
    case 'https':
      return 'remote';
    default:
      return 'other'; // file:, javascript:, blob:... never loaded
  }
}

/**
 * Why a chart may not load `uri`, or null when it may. Untrusted outputs: inline data
 * only (no request leaves the page, not even to the server). Trusted: inline, server
 * files and http(s).
 */
export function refusal(uri: string, trusted: boolean): string | null {
  const kind = uriKind(uri);
  if (kind === 'inline') {
    return null;
  }
  if (kind === 'other') {
    return `this chart may not load ${JSON.stringify(uri)} (only data:, http(s) and notebook-relative URLs are loaded)`;
  }
  if (!trusted) {
    return `this chart is not trusted: it may not load ${JSON.stringify(uri)} (trust the notebook to load its data)`;
  }
  return null;
}

/** The actions menu: export as SVG/PNG and view the source, never "Open in Vega Editor"
 * (an external site). */
export const ACTIONS = {
  export: { svg: true, png: true },
  source: true,
  compiled: true,
  editor: false
};

/**
 * The embed options an untrusted output's metadata may set (`embed_options`, as
 * Altair's `alt.renderers.set_embed_options` writes them): how the chart looks. Others
 * (`sourceHeader`/`sourceFooter` are HTML, `editorUrl`, `loader`, `config` may be a URL)
 * are a trusted output's only.
 */
const UNTRUSTED_EMBED_OPTIONS = new Set([
  'actions', // only to hide the menu (false): see embedOptions
  'theme',
  'width',
  'height',
  'padding',
  'renderer',
  'scaleFactor',
  'downloadFileName',
  'tooltip',
  'hover',
  'formatLocale',
  'timeFormatLocale'
]);

/**
 * The vega-embed options for one output: the metadata's `embed_options` (only the
 * look for untrusted outputs), the dark theme when JupyterLab's is dark and the output
 * chose none, always our actions menu (no editor) and mode, and for untrusted outputs
 * vega's expression interpreter.
 */
export function embedOptions(
  metadata: unknown,
  trusted: boolean,
  darkTheme: boolean,
  mode: 'vega' | 'vega-lite'
): Record<string, unknown> {
  const asked =
    metadata && typeof metadata === 'object'
      ? ((metadata as Record<string, unknown>).embed_options ?? {})
      : {};
  const own: Record<string, unknown> = {};
  if (asked && typeof asked === 'object' && !Array.isArray(asked)) {
    for (const [key, value] of Object.entries(asked)) {
      if (trusted || UNTRUSTED_EMBED_OPTIONS.has(key)) {
        own[key] = value;
      }
    }
  }
  if (darkTheme && own.theme === undefined) {
    own.theme = 'dark';
  }
  const actions =
    own.actions === false
      ? false
      : {
          ...ACTIONS,
          ...(trusted && typeof own.actions === 'object' ? own.actions : {})
        };
  // An untrusted spec's expressions are interpreted, never compiled to code (vega's
  // `Function` codegen has a whitelist, but an interpreter cannot run what slips by).
  const ast = trusted ? {} : { ast: true };
  return { defaultStyle: true, ...own, actions, mode, ...ast };
}
