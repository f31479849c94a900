import fs from 'fs';

import { embedOptions, refusal, uriKind, VEGA6_RANK } from '../vega-policy';

/**
 * The default rank of one of JupyterLab's standard renderers, as installed (the
 * registry itself needs a DOM: the browser test shows the chart winning over Altair's
 * HTML, trusted and not).
 */
function standardRank(factory: string): number {
  const source = fs.readFileSync(
    require.resolve('@jupyterlab/rendermime/lib/factories.js'),
    'utf8'
  );
  const rank = new RegExp(`${factory} = \\{[^}]*?defaultRank: (\\d+)`).exec(
    source
  );
  if (!rank) {
    throw new Error(`no ${factory} in @jupyterlab/rendermime`);
  }
  return Number(rank[1]);
}

describe('the rank of the Vega 6 renderer', () => {
  it("beats HTML (Altair's CDN fallback in the same bundle) and markdown", () => {
    expect(standardRank('htmlRendererFactory')).toBe(50);
    expect(VEGA6_RANK).toBeLessThan(standardRank('htmlRendererFactory'));
    expect(VEGA6_RANK).toBeLessThan(standardRank('markdownRendererFactory'));
  });
});

describe('what a chart may load', () => {
  it('classifies URLs', () => {
    expect(uriKind('data:text/csv,a%0A1')).toBe('inline');
    expect(uriKind('cars.csv')).toBe('local');
    expect(uriKind('data/cars.json')).toBe('local');
    expect(uriKind('/files/cars.json')).toBe('local');
    expect(uriKind('https://cdn.example.org/cars.json')).toBe('remote');
    expect(uriKind('HTTP://example.org/x')).toBe('remote');
    expect(uriKind('//example.org/x')).toBe('remote');
    expect(uriKind('  https://example.org/x')).toBe('remote');
    expect(uriKind('file:///etc/passwd')).toBe('other');
    expect(uriKind('javascript:alert(1)')).toBe('other');
  });

  it('lets an untrusted chart load inline data only', () => {
    expect(refusal('data:text/csv,a%0A1', false)).toBeNull();
    expect(refusal('https://example.org/cars.json', false)).toMatch(
      /not trusted/
    );
    expect(refusal('//example.org/cars.json', false)).toMatch(/not trusted/);
    expect(refusal('cars.csv', false)).toMatch(/not trusted/);
    expect(refusal('javascript:alert(1)', false)).not.toBeNull();
  });

  it("lets a trusted chart load the server's files and http(s), nothing else", () => {
    expect(refusal('data:text/csv,a%0A1', true)).toBeNull();
    expect(refusal('cars.csv', true)).toBeNull();
    expect(refusal('https://example.org/cars.json', true)).toBeNull();
    expect(refusal('file:///etc/passwd', true)).toMatch(/may not load/);
    expect(refusal('javascript:alert(1)', true)).toMatch(/may not load/);
  });
});

describe('the embed options of an output', () => {
  it('offers export and source, never the external editor, by default', () => {
    for (const trusted of [true, false]) {
      const options = embedOptions(undefined, trusted, false, 'vega-lite');
      expect(options.actions).toEqual({
        export: { svg: true, png: true },
        source: true,
        compiled: true,
        editor: false
      });
      expect(options.mode).toBe('vega-lite');
      expect(options.theme).toBeUndefined();
    }
    // `actions: true` (Altair's default) is our menu too.
    const asked = { embed_options: { actions: true } };
    expect(embedOptions(asked, true, false, 'vega').actions).toMatchObject({
      editor: false
    });
    expect(
      embedOptions({ embed_options: { actions: false } }, false, false, 'vega')
        .actions
    ).toBe(false);
  });

  it("keeps only an untrusted output's look", () => {
    const metadata = {
      embed_options: {
        theme: 'fivethirtyeight',
        width: 300,
        sourceHeader: '<script>alert(1)</script>',
        editorUrl: 'https://evil.example.org',
        config: 'https://evil.example.org/config.json',
        actions: { editor: true },
        mode: 'vega'
      }
    };
    const untrusted = embedOptions(metadata, false, false, 'vega-lite');
    expect(untrusted).toMatchObject({ theme: 'fivethirtyeight', width: 300 });
    for (const key of ['sourceHeader', 'editorUrl', 'config']) {
      expect(untrusted).not.toHaveProperty(key);
    }
    expect(untrusted.actions).toMatchObject({ editor: false });
    expect(untrusted.mode).toBe('vega-lite');
    expect(untrusted.ast).toBe(true); // expressions interpreted, not compiled
    expect(
      embedOptions({ embed_options: { ast: false } }, false, false, 'vega')
    ).toMatchObject({ ast: true });
    // A trusted output's author may ask for more.
    const trusted = embedOptions(metadata, true, false, 'vega-lite');
    expect(trusted).toMatchObject({ editorUrl: 'https://evil.example.org' });
    expect(trusted.actions).toMatchObject({ editor: true });
    expect(trusted.mode).toBe('vega-lite');
    expect(trusted).not.toHaveProperty('ast');
  });

  it("follows JupyterLab's dark theme unless the output chose one", () => {
    expect(embedOptions({}, true, true, 'vega-lite').theme).toBe('dark');
    expect(
      embedOptions({ embed_options: { theme: 'excel' } }, true, true, 'vega')
        .theme
    ).toBe('excel');
    expect(embedOptions({}, true, false, 'vega-lite').theme).toBeUndefined();
  });
});
