import { withoutSuggestions } from '../../src/errors/format';

describe('withoutSuggestions()', () => {
  it.each([
    ['Value "AUT" does not exist in "BackupType" enum. Did you mean the enum value "AUTO"?', 'Value "AUT" does not exist in "BackupType" enum.'],
    ['Unknown argument "firs" on field "Query.backups". Did you mean "first" or "last"?', 'Unknown argument "firs" on field "Query.backups".'],
    ['Cannot query field "nam" on type "Backup". [Suggestion hidden]?', 'Cannot query field "nam" on type "Backup".'],
    ['Field "typ" is not defined.\nDid you mean "type"?', 'Field "typ" is not defined.'],
  ])('drops the suggestion from %p', (message, expected) => {
    expect(withoutSuggestions(message)).toBe(expected);
  });

  it('leaves a message without one as it is', () => {
    expect(withoutSuggestions('Syntax Error: Expected Name, found "?".')).toBe('Syntax Error: Expected Name, found "?".');
  });
});
