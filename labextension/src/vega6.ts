/**
 * A renderer for Vega-Lite 6 and Vega 6 outputs (Altair 6 charts), which JupyterLab 4.6
 * lacks (see vega-policy.ts for why and for what a chart may load).
 *
 * vega, vega-lite and vega-embed are imported on the first chart only (a chunk of their
 * own): JupyterLab's startup never loads them.
 */
import { IRenderMime } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import type * as VegaEmbed from 'vega-embed';

import {
  embedOptions,
  refusal,
  uriKind,
  VEGA6_MIME_TYPE,
  VEGA6_RANK,
  VEGALITE6_MIME_TYPE
} from './vega-policy';

let vegaEmbed: Promise<typeof VegaEmbed> | null = null;

/** vega-embed (and vega, vega-lite), loaded once, on the first chart. */
function loadVegaEmbed(): Promise<typeof VegaEmbed> {
  if (vegaEmbed === null) {
    vegaEmbed = import(/* webpackChunkName: "vega6" */ 'vega-embed');
    vegaEmbed.catch(() => {
      vegaEmbed = null; // a failed chunk load is retried by the next chart
    });
  }
  return vegaEmbed;
}

/** Is JupyterLab's theme dark (as its own Vega renderer asks)? */
function darkTheme(): boolean {
  return document.body.dataset.jpThemeLight === 'false';
}

/** The charts on the page, drawn again when JupyterLab's theme changes. */
const shown = new Set<RenderedVega6>();

/**
 * Draws every chart again, in JupyterLab's current theme (index.ts calls it when the
 * theme changes: JupyterLab's own Vega renderer keeps the old theme until a re-run).
 */
export function redrawCharts(): Promise<void> {
  return Promise.all([...shown].map(chart => chart.redraw())).then(() => {});
}

/** One Vega/Vega-Lite 6 output. */
export class RenderedVega6 extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this._resolver = options.resolver;
    this.addClass('jp-RenderedVegaCommon6');
    this.addClass('rn-RenderedVega6');
  }

  /** Draws the last model again (if that fails, the chart stays as it was drawn). */
  async redraw(): Promise<void> {
    if (this._model !== null && !this.isDisposed) {
      await this.renderModel(this._model).catch(() => undefined);
    }
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const spec = model.data[this._mimeType];
    if (spec === undefined) {
      return;
    }
    this._model = model;
    shown.add(this);
    const mode = this._mimeType === VEGA6_MIME_TYPE ? 'vega' : 'vega-lite';
    const options = embedOptions(
      model.metadata[this._mimeType],
      model.trusted,
      darkTheme(),
      mode
    );
    const draw = ++this._draws;
    const embed = await loadVegaEmbed();
    if (draw !== this._draws || this.isDisposed) {
      return; // a newer draw (the theme changed meanwhile) or none any more
    }
    const el = document.createElement('div');
    this.node.textContent = '';
    this.node.appendChild(el);
    this._result?.finalize();
    this._result = null;

    const trusted = model.trusted;
    const resolver = this._resolver;
    const loader = embed.vega.loader({ http: { credentials: 'same-origin' } });
    const sanitize = async (
      uri: string,
      opts: Parameters<typeof loader.sanitize>[1]
    ) => {
      const why = refusal(uri, trusted);
      if (why !== null) {
        throw new Error(why);
      }
      if (uriKind(uri) === 'local') {
        // A file next to the notebook: its /files URL on this server.
        if (!resolver) {
          throw new Error(
            `no notebook to resolve ${JSON.stringify(uri)} against`
          );
        }
        if (resolver.isLocal?.(uri) ?? true) {
          uri = await resolver.getDownloadUrl(await resolver.resolveUrl(uri));
        }
      }
      return loader.sanitize(uri, opts);
    };
    const result = await embed.default(
      el,
      spec as VegaEmbed.VisualizationSpec,
      {
        ...(options as VegaEmbed.EmbedOptions),
        loader: { ...loader, sanitize } as VegaEmbed.EmbedOptions['loader']
      }
    );
    if (draw !== this._draws || this.isDisposed) {
      result.finalize(); // replaced (or disposed) while vega was drawing
    } else {
      this._result = result;
    }
  }

  dispose(): void {
    shown.delete(this);
    this._model = null;
    this._result?.finalize();
    this._result = null;
    super.dispose();
  }

  private _mimeType: string;
  private _resolver: IRenderMime.IResolver | null;
  private _result: VegaEmbed.Result | null = null;
  private _model: IRenderMime.IMimeModel | null = null;
  private _draws = 0;
}

/** Renders both MIME types; `safe`: untrusted outputs render too (their loads are
 * refused, vega-policy.ts), as JupyterLab's Vega 5 renderer does. */
export const vega6RendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [VEGALITE6_MIME_TYPE, VEGA6_MIME_TYPE],
  defaultRank: VEGA6_RANK,
  createRenderer: options => new RenderedVega6(options)
};

/** The renderer as a mime extension (index.ts adds its factory to the registry). */
export const vega6Extension: IRenderMime.IExtension = {
  id: 'reactive-notebook:vega6',
  description:
    'Renders Vega-Lite 6 and Vega 6 (Altair 6 charts) without a CDN.',
  rendererFactory: vega6RendererFactory,
  rank: VEGA6_RANK,
  dataType: 'json'
};
