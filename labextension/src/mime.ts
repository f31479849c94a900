/** Choosing the MIME type an output is rendered as (no JupyterLab imports: unit-tested). */

/** What the choice needs of JupyterLab's rendermime registry (`IRenderMimeRegistry`). */
export interface IMimeChooser {
  readonly mimeTypes: ReadonlyArray<string>;
  preferredMimeType(
    bundle: { readonly [mimeType: string]: unknown },
    safe?: 'ensure' | 'prefer' | 'any'
  ): string | undefined;
}

/** How one output is shown. */
export type OutputRendering =
  /** Through JupyterLab's renderer of `mimeType`. */
  | { kind: 'render'; mimeType: string }
  /** Not rendered: untrusted, and only renderers that are not safe could show it. */
  | { kind: 'refused'; mimeType: string }
  /** No renderer knows it: its data as plain text. */
  | { kind: 'text' };

/**
 * How to show an output of `mimeType`, as JupyterLab's output area decides
 * (`preferredMimeType(bundle, trusted ? 'any' : 'ensure')`): a trusted output by any
 * renderer; an untrusted one only by a renderer JupyterLab marks `safe` (HTML and
 * markdown are then sanitized by it), never by one that would run its script
 * (JavaScript) or cannot show it safely (SVG).
 */
export function outputRendering(
  mimeType: string,
  rendermime: IMimeChooser,
  trusted: boolean
): OutputRendering {
  const shownAs = renderableMimeType(mimeType, rendermime);
  const bundle = { [shownAs]: true };
  const chosen = rendermime.preferredMimeType(
    bundle,
    trusted ? 'any' : 'ensure'
  );
  if (chosen) {
    return { kind: 'render', mimeType: chosen };
  }
  if (!trusted && rendermime.preferredMimeType(bundle, 'any')) {
    return { kind: 'refused', mimeType: shownAs };
  }
  return { kind: 'text' };
}

const VEGA_LITE = /^application\/vnd\.vegalite\.v(\d+)\+json$/;

/**
 * The MIME type to render `mimeType` as: itself when JupyterLab has a renderer for it;
 * for a Vega-Lite version newer than JupyterLab's renderer (Altair 6 sends v6, JupyterLab
 * 4.6 renders v5), the newest version it does render (the spec format is compatible
 * enough for the charts Altair makes).
 */
export function renderableMimeType(
  mimeType: string,
  rendermime: { readonly mimeTypes: ReadonlyArray<string> }
): string {
  const known = rendermime.mimeTypes;
  const version = VEGA_LITE.exec(mimeType);
  if (!version || known.includes(mimeType)) {
    return mimeType;
  }
  const older = known
    .map(type => [type, VEGA_LITE.exec(type)] as const)
    .filter(([, match]) => match && Number(match[1]) < Number(version[1]))
    .sort((a, b) => Number(b[1]![1]) - Number(a[1]![1]));
  return older.length ? older[0][0] : mimeType;
}
