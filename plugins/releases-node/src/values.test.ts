import {
  allowedValue,
  annotationClaims,
  annotationProblems,
  checkedValue,
  InvalidValueError,
  listRule,
  patternRule,
} from './values';

const NAME = patternRule(/^[a-z0-9-]{1,20}$/, 'lower-case letters, digits and -');

describe('values from outside config', () => {
  it('checks a value before use and names what was expected, with control characters shown escaped', () => {
    expect(checkedValue('checkout', NAME, 'The backend')).toBe('checkout');
    expect(() => checkedValue('a\nb', NAME, 'The backend')).toThrow(new InvalidValueError("The backend 'a\\nb' is not allowed; it must be lower-case letters, digits and -"));
    expect(() => patternRule(/[a-z]+/, 'x')).toThrow(/must be anchored/);
    expect(listRule(NAME, 2).test('a, b')).toBe(true);
    expect(listRule(NAME, 2).test('a,b,c')).toBe(false);
  });

  it('checks annotations with their placeholders filled in with valid stand-ins, and only the rules\' annotations', () => {
    const rules = [{ annotation: 'release-pilot.io/x', rule: NAME }];
    expect(annotationProblems({ 'release-pilot.io/x': '${entityName}-web', other: ';' }, rules)).toEqual([]);
    expect(annotationProblems({ 'release-pilot.io/x': '${app}' }, rules)).toEqual([
      "release-pilot.io/x: '${app}' is not allowed; use lower-case letters, digits and -.",
    ]);
  });

  it('allows a value when it matches a pattern with the entity\'s placeholders and * for a run of name characters', () => {
    const ref = 'component:shop/checkout';
    expect(allowedValue('checkout', ['${entityName}'], ref)).toBe(true);
    expect(allowedValue('checkout-blue', ['${entityName}-*'], ref)).toBe(true);
    expect(allowedValue('shop-checkout', ['${namespace}-${entityName}'], ref)).toBe(true);
    expect(allowedValue('payments', ['${entityName}-*', '${entityName}'], ref)).toBe(false);
    // '*' does not reach across a separator or into a selector's quotes, and '.' in a pattern is literal.
    expect(allowedValue('checkout/../x', ['${entityName}*'], ref)).toBe(false);
    expect(allowedValue('checkoutXweb', ['${entityName}.web'], ref)).toBe(false);
  });

  it('says what each entity claims, joint where a claim spans annotations, and whether only the defaults put it there', () => {
    const rules = [
      { annotation: 'ns', rule: NAME, default: 'default', claim: 'route' },
      { annotation: 'route', rule: NAME, default: '${entityName}', claim: 'route' },
      { annotation: 'servers', rule: NAME, default: 'a' },
    ];
    expect([...annotationClaims({}, rules, 'component:default/checkout')]).toEqual([['route', { value: 'ns=default route=checkout', byDefault: true }]]);
    expect(annotationClaims({ ns: 'shop' }, rules, 'component:default/checkout').get('route')).toEqual({ value: 'ns=shop route=checkout', byDefault: false });
  });
});
