/**
 * How a cell's reactive state reads on the cell (no DOM here: `footer.ts` draws it).
 *
 * The server names cells by id in its reasons ("cell 1f3a… failed before defining `x`
 * (ZeroDivisionError: division by zero)"); a person knows a cell by the number its
 * prompt shows (`[3]`), or by its position when it has not run (`#3`).
 */
import { IReactiveCell } from './state';

/** What the footer's status mark says. */
export type StatusMark =
  'queued' | 'running' | 'ok' | 'failed' | 'blocked' | 'interrupted' | 'idle';

/** The line (1-based) and column (0-based) of a cell's own syntax error, if it has one. */
export function syntaxErrorAt(
  cell: Pick<IReactiveCell, 'error'>
): { line: number; column: number } | null {
  const match = /^SyntaxError: line (\d+), column (\d+)/.exec(cell.error ?? '');
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}

/**
 * The mark for a cell. A cell whose own code does not parse has failed (the server
 * cannot run it, so it reports it blocked): the cells it blocks are the blocked ones.
 */
export function statusMark(
  cell: Pick<IReactiveCell, 'status' | 'error'>
): StatusMark {
  switch (cell.status) {
    case 'queued':
      return 'queued';
    case 'running':
      return 'running';
    case 'success':
      return 'ok';
    case 'error':
      return cell.error === 'interrupted' ? 'interrupted' : 'failed';
    case 'blocked':
      return syntaxErrorAt(cell) ? 'failed' : 'blocked';
    default:
      return syntaxErrorAt(cell) ? 'failed' : 'idle';
  }
}

/** The text of a mark, as shown. */
export const MARK_TEXT: Record<StatusMark, string> = {
  queued: 'queued',
  running: 'running',
  ok: 'ok',
  failed: 'failed',
  blocked: 'blocked',
  interrupted: 'interrupted',
  idle: ''
};

/** A piece of a reason: text, or a cell named by its id. */
export type ReasonPart = { text: string } | { cellId: string };

/**
 * `text` cut where it names one of `cellIds` (whole ids only, so an id that is a prefix
 * of another word is not taken for a cell).
 */
export function reasonParts(
  text: string,
  cellIds: Iterable<string>
): ReasonPart[] {
  const named = [...cellIds].filter(id => id && text.includes(id));
  if (!named.length) {
    return text ? [{ text }] : [];
  }
  // Longest first: an id that is the start of another must not cut it.
  named.sort((a, b) => b.length - a.length);
  const escaped = named.map(id => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(
    `(?<![\\w-])(${escaped.join('|')})(?![\\w-])`,
    'g'
  );
  const parts: ReasonPart[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) {
      parts.push({ text: text.slice(last, at) });
    }
    parts.push({ cellId: match[1] });
    last = at + match[0].length;
  }
  if (last < text.length) {
    parts.push({ text: text.slice(last) });
  }
  return parts;
}

/**
 * How a person knows a cell: its prompt number `[3]` when it has run, else its position
 * in the notebook `#3` (1-based; `index` is 0-based, -1 when it is not shown).
 */
export function cellLabel(
  index: number,
  executionCount: number | null | undefined
): string {
  if (typeof executionCount === 'number') {
    return `[${executionCount}]`;
  }
  return index >= 0 ? `#${index + 1}` : 'a deleted cell';
}

/** Backticks around names are for plain text; the footer shows names as code. */
export function splitCode(text: string): { text: string; code: boolean }[] {
  const pieces: { text: string; code: boolean }[] = [];
  const pattern = /`([^`]+)`/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) {
      pieces.push({ text: text.slice(last, at), code: false });
    }
    pieces.push({ text: match[1], code: true });
    last = at + match[0].length;
  }
  if (last < text.length) {
    pieces.push({ text: text.slice(last), code: false });
  }
  return pieces;
}
