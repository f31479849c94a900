import { renderableMimeType } from '../mime';

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
