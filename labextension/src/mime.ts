/** Choosing the MIME type an output is rendered as (no JupyterLab imports: unit-tested). */
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
