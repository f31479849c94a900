/** The user's settings of the Reactive Notebook editor (schema/plugin.json). */
export type RunOn = 'shift-enter' | 'blur' | 'typing';

export interface IReactiveSettings {
  runOn: RunOn;
  debounce: number;
}

export const DEFAULT_SETTINGS: IReactiveSettings = {
  runOn: 'blur',
  debounce: 500
};
