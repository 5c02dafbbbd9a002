import { bearerTokenOf } from '../../../../lambdas/core/merchants/api-keys';

const key = 'hrld_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';

describe('reading the API key of an Authorization header', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('reads the key after the scheme spelled %s and one space', (scheme) => {
    expect(bearerTokenOf(`${scheme} ${key}`)).toBe(key);
  });

  it.each([
    ['two spaces', `Bearer  ${key}`],
    ['a tab', `Bearer\t${key}`],
    ['a trailing space', `Bearer ${key} `],
    ['a leading space', ` Bearer ${key}`],
    ['a trailing newline', `Bearer ${key}\n`],
    ['no space', `Bearer${key}`],
    ['another scheme', `Basic ${key}`],
    ['no scheme', key],
    ['two keys', `Bearer ${key} ${key}`],
    ['a key with a character outside RFC 6750', `Bearer ${key}%`],
    ['an empty key', 'Bearer '],
  ])('refuses %s', (_, header) => {
    expect(bearerTokenOf(header)).toBeUndefined();
  });

  it('refuses a missing header', () => {
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });
});
