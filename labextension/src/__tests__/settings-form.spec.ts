import { ReactiveAPIError } from '../api';
import {
  PASSWORD_MASK,
  SettingsConflictError,
  SettingsInputError,
  checkUnchangedSince,
  errorField,
  hasLiteralPassword,
  settingsChanges
} from '../settings-form';

const masked = `postgresql://u:${PASSWORD_MASK}@db.example:5432/sales`;

describe('settingsChanges', () => {
  const current = { name: 'Sales', db: masked };

  it('sends nothing when nothing changed (the masked password is never sent back)', () => {
    expect(settingsChanges(current, { ...current })).toEqual([]);
  });

  it('ignores whitespace around what was typed', () => {
    expect(
      settingsChanges(current, { name: '  Sales ', db: ` ${masked} ` })
    ).toEqual([]);
  });

  it('sends a new name, trimmed', () => {
    expect(settingsChanges(current, { name: ' Q3 ', db: masked })).toEqual([
      { kind: 'name', name: 'Q3' }
    ]);
  });

  it('sends a new connection string', () => {
    const db = 'postgresql://u:${PGPASSWORD}@db.example/sales';
    expect(settingsChanges(current, { name: 'Sales', db })).toEqual([
      { kind: 'db', connectionString: db }
    ]);
  });

  it('sends an empty connection string: back to the embedded DuckDB', () => {
    expect(settingsChanges(current, { name: 'Sales', db: '' })).toEqual([
      { kind: 'db', connectionString: '' }
    ]);
  });

  it('sends both, the name first', () => {
    expect(
      settingsChanges(current, { name: 'Other', db: 'duckdb:///x.db' })
    ).toEqual([
      { kind: 'name', name: 'Other' },
      { kind: 'db', connectionString: 'duckdb:///x.db' }
    ]);
  });

  it('refuses an empty name before asking the server', () => {
    expect(() => settingsChanges(current, { name: '   ', db: masked })).toThrow(
      SettingsInputError
    );
  });
});

describe('hasLiteralPassword', () => {
  it.each([
    'postgresql://u:secret@127.0.0.1:1/db',
    'postgresql+psycopg://u:p%40ss@host/db?sslmode=require',
    'host=db user=u password=secret',
    "host=db password='a b'",
    'postgresql://u@host/db?password=secret'
  ])('finds the password in %s', connection => {
    expect(hasLiteralPassword(connection)).toBe(true);
  });

  it.each([
    '',
    'duckdb:///data.db',
    'postgresql://u@host/db',
    masked,
    'postgresql://u:${PGPASSWORD}@host/db',
    'host=db password=${PGPASSWORD}',
    `host=db password=${PASSWORD_MASK}`,
    'postgresql://host:5432/db'
  ])('finds none in %s', connection => {
    expect(hasLiteralPassword(connection)).toBe(false);
  });
});

describe('errorField', () => {
  it('names the field of a refused input or a 400 of the server', () => {
    expect(errorField(new SettingsInputError('x', 'name'))).toBe('name');
    expect(
      errorField(
        new ReactiveAPIError('bad', 400, { field: 'connection_string' })
      )
    ).toBe('db');
    expect(
      errorField(new ReactiveAPIError('bad', 400, { field: 'name' }))
    ).toBe('name');
  });

  it('names none for a conflict or a lost connection', () => {
    expect(
      errorField(new ReactiveAPIError('stale', 409, { revision: 3 }))
    ).toBe(null);
    expect(errorField(new Error('offline'))).toBe(null);
  });
});

describe('checkUnchangedSince', () => {
  const shown = { name: 'Sales', db: '' };

  it('lets changes through when the server still has what the dialog showed', () => {
    expect(() =>
      checkUnchangedSince(shown, { ...shown }, [{ kind: 'name', name: 'Q3' }])
    ).not.toThrow();
  });

  it('refuses a change to a field changed elsewhere, saying what it is now', () => {
    const now = { name: 'Sales (final)', db: '' };
    let error: unknown;
    try {
      checkUnchangedSince(shown, now, [{ kind: 'name', name: 'Q3' }]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingsConflictError);
    expect((error as Error).message).toMatch(
      /changed elsewhere.*Sales \(final\)/
    );
    expect(errorField(error)).toBe('name');
  });

  it('ignores fields the user did not change', () => {
    const now = { name: 'Sales', db: 'postgresql://u:********@h/db' };
    expect(() =>
      checkUnchangedSince(shown, now, [{ kind: 'name', name: 'Q3' }])
    ).not.toThrow();
    expect(() =>
      checkUnchangedSince(shown, now, [{ kind: 'db', connectionString: '' }])
    ).toThrow(/database connection.*postgresql/);
  });
});
