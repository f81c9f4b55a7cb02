import { callerToken, type HeaderGetter } from '../src/context';
import { MalformedCredentialsError } from '../src/errors/domain';

const headers = (h: Record<string, string>): HeaderGetter => (name) => h[name];

describe('callerToken()', () => {
  it('is undefined without X-Auth-Token or Authorization', () => {
    expect(callerToken(headers({}))).toBeUndefined();
  });

  it.each([
    [{ 'x-auth-token': 'MIIabc+/=' }, 'MIIabc+/='],
    [{ 'x-auth-token': '  tok  ' }, 'tok'],
    [{ authorization: 'Bearer tok' }, 'tok'],
    [{ authorization: 'bearer   tok' }, 'tok'],
    [{ 'x-auth-token': 'tok', authorization: 'Bearer tok' }, 'tok'],
  ])('takes the token of %p', (h, token) => {
    expect(callerToken(headers(h))).toBe(token);
  });

  it.each([
    [{ 'x-auth-token': '' }], [{ 'x-auth-token': '   ' }], [{ 'x-auth-token': 'a b' }], [{ 'x-auth-token': 'tök' }],
    [{ authorization: '' }], [{ authorization: 'Bearer' }], [{ authorization: 'Bearer ' }], [{ authorization: 'Bearer  tok en' }],
    [{ authorization: 'Basic dTpw' }], [{ authorization: 'tok' }],
    [{ 'x-auth-token': 'tok', authorization: 'Basic dTpw' }], [{ 'x-auth-token': 'a', authorization: 'Bearer b' }],
  ])('refuses %p, without quoting it', (h) => {
    const result = callerToken(headers(h));
    expect(result).toBeInstanceOf(MalformedCredentialsError);
    expect((result as Error).message).not.toMatch(/dTpw|tök|tok en/);
  });
});
