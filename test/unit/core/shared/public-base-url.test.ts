import { parsePublicBaseUrl } from '../../../../lambdas/core/shared/public-base-url';

describe('the public base URL links are built on', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com'],
    ['https://d111111abcdef8.cloudfront.net/herald/', 'https://d111111abcdef8.cloudfront.net/herald'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
  ])('takes %s as %s', (raw, base) => {
    expect(parsePublicBaseUrl(raw)).toBe(base);
  });

  it.each([
    ['unset', undefined, /not set/],
    ['empty', ' ', /not set/],
    ['a script', 'javascript:alert(1)//', /http\(s\) URL/],
    ['relative', '/v1', /absolute/],
    ['with credentials', 'https://user:pw@api.example.com', /no credentials/],
    ['with a query', 'https://api.example.com/?next=evil', /no credentials, query or fragment/],
  ])('refuses a base URL %s, saying why', (_, raw, reason) => {
    expect(() => parsePublicBaseUrl(raw, 'HERALD_PUBLIC_BASE_URL')).toThrow(reason);
  });
});
