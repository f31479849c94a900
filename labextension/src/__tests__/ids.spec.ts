import { derivedId, notebookIdOf, sha1, storedId } from '../ids';

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');

describe('notebook ids', () => {
  it('hashes with SHA-1', () => {
    expect(hex(sha1(new TextEncoder().encode('abc')))).toBe(
      'a9993e364706816aba3e25717850c26c9cd0d89d'
    );
    expect(hex(sha1(new Uint8Array(0)))).toBe(
      'da39a3ee5e6b4b0d3255bfef95601890afd80709'
    );
    // more than one block
    expect(hex(sha1(new TextEncoder().encode('a'.repeat(1000))))).toBe(
      '291e9a6c66994949b57ba5e650361e98fc36b1ba'
    );
  });

  it("derives the server's id from a path (values from reactive_notebook.contents.store)", () => {
    expect(derivedId('', 'a/b é.ipynb')).toBe(
      '6679fffc3365533c884ea1c5e23ae06b'
    );
    expect(derivedId('', 'Untitled.ipynb')).toBe(
      'e25e88d30b9556659752b22726742534'
    );
  });

  it('prefers the id stored in the metadata', () => {
    const id = '0123456789abcdef0123456789abcdef';
    const text = JSON.stringify({
      metadata: { reactive_notebook: { id } },
      cells: []
    });
    expect(notebookIdOf('x.ipynb', text)).toBe(id);
    expect(
      storedId({ metadata: { reactive_notebook: { id: '../etc' } } })
    ).toBeNull();
    expect(notebookIdOf('/Untitled.ipynb', '{"metadata": {}}')).toBe(
      'e25e88d30b9556659752b22726742534'
    );
    expect(notebookIdOf('Untitled.ipynb', 'not json')).toBe(
      'e25e88d30b9556659752b22726742534'
    );
  });
});
