import { outputRendering, renderableMimeType } from '../mime';

const lab = (...mimeTypes: string[]) => ({ mimeTypes });

describe('renderableMimeType', () => {
  it('keeps a MIME type JupyterLab renders', () => {
    const registry = lab('text/html', 'application/vnd.vegalite.v5+json');
    expect(renderableMimeType('text/html', registry)).toBe('text/html');
    expect(
      renderableMimeType('application/vnd.vegalite.v5+json', registry)
    ).toBe('application/vnd.vegalite.v5+json');
  });

  it("renders a newer Vega-Lite with JupyterLab's newest older renderer", () => {
    const registry = lab(
      'application/vnd.vegalite.v3+json',
      'application/vnd.vegalite.v5+json',
      'application/vnd.vegalite.v4+json'
    );
    expect(
      renderableMimeType('application/vnd.vegalite.v6+json', registry)
    ).toBe('application/vnd.vegalite.v5+json');
  });

  it('leaves anything else alone, renderable or not', () => {
    expect(renderableMimeType('application/vnd.vegalite.v6+json', lab())).toBe(
      'application/vnd.vegalite.v6+json'
    );
    expect(renderableMimeType('application/x-unknown', lab('text/plain'))).toBe(
      'application/x-unknown'
    );
  });
});

/**
 * A registry with JupyterLab's renderers of these MIME types, in rank order, each with
 * its factory's `safe` flag (@jupyterlab/rendermime's factories.ts, javascript-extension,
 * vega5-extension), choosing as `RenderMimeRegistry.preferredMimeType` does.
 */
function registry(renderers: Array<[string, boolean]>) {
  const safe = new Map(renderers);
  const mimeTypes = renderers.map(([mimeType]) => mimeType);
  return {
    mimeTypes,
    preferredMimeType(
      bundle: { readonly [mimeType: string]: unknown },
      mode: 'ensure' | 'prefer' | 'any' = 'ensure'
    ): string | undefined {
      const present = mimeTypes.filter(mimeType => mimeType in bundle);
      if (mode !== 'any') {
        const found = present.find(mimeType => safe.get(mimeType));
        if (found || mode === 'ensure') {
          return found;
        }
      }
      return present[0];
    }
  };
}

const JUPYTERLAB = registry([
  ['application/vnd.vegalite.v5+json', true],
  ['text/html', true],
  ['text/markdown', true],
  ['image/svg+xml', false],
  ['image/png', true],
  ['application/javascript', false],
  ['text/plain', true]
]);

describe('outputRendering', () => {
  it('renders a trusted output with any renderer, as JupyterLab does', () => {
    for (const mimeType of JUPYTERLAB.mimeTypes) {
      expect(outputRendering(mimeType, JUPYTERLAB, true)).toEqual({
        kind: 'render',
        mimeType
      });
    }
  });

  it('renders an untrusted output only with a safe renderer', () => {
    // HTML and markdown: rendered, and sanitized by the renderer (trusted: false).
    for (const mimeType of ['text/html', 'text/markdown', 'image/png']) {
      expect(outputRendering(mimeType, JUPYTERLAB, false)).toEqual({
        kind: 'render',
        mimeType
      });
    }
    // Script and SVG: not rendered at all.
    for (const mimeType of ['application/javascript', 'image/svg+xml']) {
      expect(outputRendering(mimeType, JUPYTERLAB, false)).toEqual({
        kind: 'refused',
        mimeType
      });
    }
  });

  it('renders a newer Vega-Lite with an older renderer, trusted or not', () => {
    for (const trusted of [true, false]) {
      expect(
        outputRendering('application/vnd.vegalite.v6+json', JUPYTERLAB, trusted)
      ).toEqual({
        kind: 'render',
        mimeType: 'application/vnd.vegalite.v5+json'
      });
    }
  });

  it('shows as text what no renderer knows, trusted or not', () => {
    for (const trusted of [true, false]) {
      expect(
        outputRendering('application/x-unknown', JUPYTERLAB, trusted)
      ).toEqual({ kind: 'text' });
    }
  });
});
