/**
 * The conversation the panel draws: the server's history, with a running turn's events
 * folded into its assistant message; a tool call's one-line summary and the cells it names.
 */
import {
  ChatTranscript,
  layoutAnswer,
  parseChatEvent,
  stepCellIds,
  summarizeInput,
  utf16Offset
} from '../chat-model';
import { ChatEvent } from '../chat-types';

function event(id: string, type: string, data: unknown): ChatEvent {
  const parsed = parseChatEvent({
    id,
    event: type,
    data: JSON.stringify(data)
  });
  if (!parsed) {
    throw new Error(`not an event: ${type}`);
  }
  return parsed;
}

describe('parseChatEvent', () => {
  it('ignores events it does not know and data that is not JSON', () => {
    expect(
      parseChatEvent({ id: 't1:1', event: 'ping', data: '{}' })
    ).toBeNull();
    expect(
      parseChatEvent({ id: 't1:1', event: 'text_delta', data: '{"te' })
    ).toBeNull();
  });
});

describe('ChatTranscript', () => {
  it('shows the person their message at once, then the answer as it streams', () => {
    const chat = new ChatTranscript();
    chat.addUser('make x');
    expect(chat.running).toBe('');
    chat.apply(event('t2:1', 'turn', { turn_id: 't2' }));
    chat.apply(event('t2:2', 'text_delta', { text: 'Making ' }));
    chat.apply(
      event('t2:3', 'tool_call', {
        id: 'u1',
        name: 'create_cell',
        input: { code: 'x = 1' }
      })
    );
    expect(chat.current()!.steps[0]).toMatchObject({
      name: 'create_cell',
      ok: null
    });
    chat.apply(
      event('t2:4', 'tool_result', {
        id: 'u1',
        name: 'create_cell',
        ok: false,
        error: 'conflict',
        preview: 'the cell changed',
        cell_ids: ['c9']
      })
    );
    chat.apply(event('t2:5', 'cells_changed', { cell_ids: ['c9'] }));
    chat.apply(event('t2:6', 'text_delta', { text: 'x.' }));
    expect(chat.running).toBe('t2');
    expect(chat.revertible()).toBeNull(); // not while it runs
    chat.apply(
      event('t2:7', 'done', {
        turn_id: 't2',
        usage: { input_tokens: 5, output_tokens: 2 },
        stop_reason: 'end_turn'
      })
    );
    expect(chat.messages).toEqual([
      expect.objectContaining({ role: 'user', turn_id: 't2', text: 'make x' }),
      {
        role: 'assistant',
        turn_id: 't2',
        text: 'Making x.',
        steps: [
          {
            id: 'u1',
            name: 'create_cell',
            input: { code: 'x = 1' },
            ok: false,
            error: 'conflict',
            preview: 'the cell changed',
            cell_ids: ['c9'],
            at: 'Making '.length
          }
        ],
        cells_changed: ['c9'],
        usage: { input_tokens: 5, output_tokens: 2 },
        stop_reason: 'end_turn',
        revertible: true
      }
    ]);
    expect(chat.running).toBeNull();
    expect(chat.revertible()).toBe(chat.messages[1]);
  });

  it('offers to revert the turn the server marks, not only the last one', () => {
    const chat = new ChatTranscript();
    chat.setHistory({
      messages: [
        { role: 'user', turn_id: 't1', text: 'make x' },
        {
          role: 'assistant',
          turn_id: 't1',
          text: 'Made x.',
          steps: [],
          revertible: true
        },
        { role: 'user', turn_id: 't2', text: 'stop' },
        {
          role: 'assistant',
          turn_id: 't2',
          text: 'Stopped.',
          steps: [],
          revertible: false
        }
      ],
      running: null
    });
    expect(chat.revertible()).toBe(chat.messages[1]);
  });

  it('keeps a failed turn’s error on its message', () => {
    const chat = new ChatTranscript();
    chat.addUser('hi');
    chat.apply(event('t1:1', 'turn', { turn_id: 't1' }));
    chat.apply(
      event('t1:2', 'error', { message: 'Upstream 500', status: 500 })
    );
    expect(chat.current()).toMatchObject({
      error: 'Upstream 500',
      revertible: false
    });
    expect(chat.running).toBeNull();
  });

  it('forgets a message the server refused', () => {
    const chat = new ChatTranscript();
    chat.setHistory({
      messages: [{ role: 'user', turn_id: 't1', text: 'a' }],
      running: null
    });
    chat.addUser('b');
    chat.abandon();
    expect(chat.messages.map(m => m.text)).toEqual(['a']);
    expect(chat.running).toBeNull();
  });

  it('rebuilds a running turn from its replay, not from the history’s partial answer', () => {
    const chat = new ChatTranscript();
    chat.setHistory({
      messages: [
        { role: 'user', turn_id: 't4', text: 'plot' },
        { role: 'assistant', turn_id: 't4', text: 'Plot', steps: [] }
      ],
      running: 't4',
      provider: 'openai',
      model: 'gpt'
    });
    expect(chat.messages).toHaveLength(1);
    chat.apply(event('t4:1', 'turn', { turn_id: 't4' }));
    chat.apply(event('t4:2', 'text_delta', { text: 'Plotting' }));
    expect(chat.messages.map(m => [m.role, m.turn_id, m.text])).toEqual([
      ['user', 't4', 'plot'],
      ['assistant', 't4', 'Plotting']
    ]);
  });
});

describe('where the steps go in the answer', () => {
  const step = (id: string, at?: number) => ({
    id,
    name: 'run_cell',
    input: {},
    ok: true,
    at
  });

  it('cuts the text where each call came, steps made together in one place', () => {
    const text = 'First words. Then more. The end.';
    const pieces = layoutAnswer(text, [
      step('a', 0),
      step('b', 12),
      step('c', 12),
      step('d', 23)
    ]);
    expect(pieces.map(p => [p.text, p.steps.map(s => s.id)])).toEqual([
      ['', ['a']],
      ['First words.', ['b', 'c']],
      [' Then more.', ['d']],
      [' The end.', []]
    ]);
    expect(pieces.map(p => p.text).join('')).toBe(text);
  });

  it('puts steps of old histories first, and never cuts outside the text', () => {
    const pieces = layoutAnswer('Words.', [step('a'), step('b', 99)]);
    expect(pieces.map(p => [p.text, p.steps.map(s => s.id)])).toEqual([
      ['', ['a']],
      ['Words.', ['b']],
      ['', []]
    ]);
    expect(layoutAnswer('Only words.', [])).toEqual([
      { text: 'Only words.', steps: [] }
    ]);
  });

  it('reads the history’s code points as UTF-16 offsets', () => {
    const text = 'Je crée 😀 la cellule.';
    expect(utf16Offset(text, 10)).toBe(11); // the emoji is two code units
    expect(text.slice(0, utf16Offset(text, 10))).toBe('Je crée 😀 ');
    expect(utf16Offset(text, 0)).toBe(0);
    expect(utf16Offset(text, undefined)).toBeUndefined();
    expect(utf16Offset(text, 999)).toBe(text.length);
    const chat = new ChatTranscript();
    chat.setHistory({
      messages: [
        { role: 'user', turn_id: 't1', text: 'go', time: '' },
        {
          role: 'assistant',
          turn_id: 't1',
          text,
          steps: [step('a', 10), step('b')]
        }
      ],
      running: null
    });
    const answer = chat.current()!;
    expect(answer.steps.map(s => s.at)).toEqual([11, undefined]);
  });
});

describe('summarizeInput and stepCellIds', () => {
  it('puts a tool input on one line', () => {
    expect(
      summarizeInput({
        notebook_id: 'nb1',
        cell_id: 'c1',
        code: 'df = load()\ndf.plot()'
      })
    ).toBe('cell_id=c1, code=df = load()…');
    expect(summarizeInput({ code: 'x'.repeat(300) }, 20)).toHaveLength(20);
    expect(summarizeInput(undefined)).toBe('');
  });

  it('names the cells of the result and of the input, once each', () => {
    expect(
      stepCellIds({
        id: 'u',
        name: 'move_cell',
        input: { cell_id: 'c1', after_cell_id: 'c2' },
        ok: true,
        cell_ids: ['c1', 'c3']
      })
    ).toEqual(['c1', 'c3', 'c2']);
  });
});
