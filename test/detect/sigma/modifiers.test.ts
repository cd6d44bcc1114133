import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Envelope } from '../../../src/core/envelope.ts';
import {
  compileItem,
  type FieldScope,
  isIssue,
  parseSigmaString,
} from '../../../src/detect/sigma/modifiers.ts';
import { envelope } from './helpers.ts';

const opts = { placeholders: { Admins: ['adm_*', 'root'] }, regexMaxLength: 4096 };

/** A scope over raw fields by name; keywords search every string in raw. */
const scope: FieldScope = {
  field: (name) => (env: Envelope) => env.raw[name],
  keywords: (env, t) => Object.values(env.raw).some((v) => typeof v === 'string' && t(v)),
};

function matches(key: string, value: unknown, raw: Record<string, unknown>): boolean {
  const item = compileItem(key, value, opts);
  if (isIssue(item)) assert.fail(`${key}: ${item.message}`);
  return item.bind(scope)(envelope('test', 'test', raw));
}

function issue(key: string, value: unknown) {
  const item = compileItem(key, value, opts);
  assert.ok(isIssue(item), `${key} should be rejected`);
  return item;
}

describe('Sigma strings (spec "Escape Character")', () => {
  test('\\* and \\? are literal, \\\\ is one backslash, a lone backslash stays', () => {
    assert.deepEqual(parseSigmaString('C:\\Windows\\*'), ['C:\\Windows*']);
    assert.deepEqual(parseSigmaString('a\\?b'), ['a?b']);
    // `\\\*` is a plain backslash followed by a plain star (spec: three backslashes escape both).
    assert.deepEqual(parseSigmaString('\\\\\\*\\IPC$'), ['\\*\\IPC$']);
    assert.equal(parseSigmaString('a*b?').length, 4);
  });
  test('wildcards: * any run, ? one character, escaped wildcards match themselves', () => {
    assert.equal(matches('f', 'prog?.exe', { f: 'PROGA.exe' }), true);
    assert.equal(matches('f', 'prog?.exe', { f: 'prog.exe' }), false);
    assert.equal(matches('f', 'a*b*c', { f: 'a12b34c' }), true);
    assert.equal(matches('f', 'a*b*c', { f: 'a12c34b' }), false);
    assert.equal(matches('f', 'a*a', { f: 'a' }), false);
    assert.equal(matches('f', 'a\\*b', { f: 'a*b' }), true);
    assert.equal(matches('f', 'a\\*b', { f: 'axb' }), false);
    assert.equal(matches('f', '*', { f: '' }), true);
  });
  test('case-insensitive by default; cased makes it exact', () => {
    assert.equal(matches('f', 'Abc', { f: 'aBC' }), true);
    assert.equal(matches('f|cased', 'Abc', { f: 'abc' }), false);
    assert.equal(matches('f|cased', 'Abc', { f: 'Abc' }), true);
  });
});

describe('generic modifiers', () => {
  test('contains, startswith, endswith', () => {
    assert.equal(matches('f|contains', 'IPC$', { f: '\\\\HOST\\ipc$\\x' }), true);
    assert.equal(matches('f|startswith', 'efs', { f: 'EfsRpcOpenFileRaw' }), true);
    assert.equal(matches('f|startswith', 'efs', { f: 'xefs' }), false);
    assert.equal(matches('f|endswith', '.onion', { f: 'abc.ONION' }), true);
  });
  test('a list is OR, |all is AND', () => {
    assert.equal(matches('f', ['x', 'y'], { f: 'y' }), true);
    assert.equal(matches('f|contains|all', ['seed', '.nkn.org'], { f: 'seed3.nkn.org' }), true);
    assert.equal(matches('f|contains|all', ['seed', '.nkn.org'], { f: 'seed3.example.org' }), false);
  });
  test('numbers and booleans compare by their text', () => {
    assert.equal(matches('id.resp_p', [137, 138, 139], { 'id.resp_p': 138 }), true);
    assert.equal(matches('Z', 0, { Z: 0 }), true);
    assert.equal(matches('rejected', 'true', { rejected: true }), true);
    assert.equal(matches('rejected', 'true', { rejected: false }), false);
  });
  test('null matches an absent or null field; empty string matches only empty', () => {
    assert.equal(matches('f', null, {}), true);
    assert.equal(matches('f', null, { f: null }), true);
    assert.equal(matches('f', null, { f: 'x' }), false);
    assert.equal(matches('f', '', { f: '' }), true);
    assert.equal(matches('f', '', {}), false);
    assert.equal(matches('f', '', { f: 'Wget/1.14' }), false);
  });
  test('exists checks presence, not value', () => {
    assert.equal(matches('f|exists', true, { f: null }), true);
    assert.equal(matches('f|exists', true, {}), false);
    assert.equal(matches('f|exists', false, {}), true);
    assert.equal(issue('f|exists', 'yes').feature, 'modifier exists');
  });
  test('neq: different from every value (an absent field is different)', () => {
    assert.equal(matches('f|neq', 'a', { f: 'b' }), true);
    assert.equal(matches('f|neq', 'a', { f: 'A' }), false);
    assert.equal(matches('f|neq', ['a', 'b'], { f: 'b' }), false);
    assert.equal(matches('f|neq', 'a', {}), true);
  });
  test('multi-valued fields (Zeek answers) match when any element does', () => {
    assert.equal(matches('answers', '127.0.0.1', { answers: ['1.2.3.4', '127.0.0.1'] }), true);
    assert.equal(matches('answers|endswith', '\\x00', { answers: ['a', 'b'] }), false);
  });
  test('keywords search every string value, as substrings; |all needs each keyword', () => {
    assert.equal(matches('', ['samr', 'lsarpc'], { name: '\\samr', size: 0 }), true);
    assert.equal(matches('', ['samr'], { name: 'svcctl' }), false);
    assert.equal(
      matches('|all', ['OabVirtualDirectory', ' -ExternalUrl '], {
        a: 'Set-OabVirtualDirectory -ExternalUrl x',
      }),
      true,
    );
    assert.equal(
      matches('|all', ['OabVirtualDirectory', ' -ExternalUrl '], { a: 'Set-OabVirtualDirectory' }),
      false,
    );
  });
  test('unknown modifiers and nested values are problems, not exceptions', () => {
    assert.equal(issue('f|bogus', 'x').feature, 'modifier bogus');
    assert.equal(issue('f', { a: 1 }).feature, 'nested value');
    assert.equal(issue('f', []).feature, 'empty value list');
  });
});

describe('string modifiers', () => {
  test('re is case-sensitive; i/m/s flags and a leading (?i) apply', () => {
    assert.equal(matches('f|re', '^abc', { f: 'ABCd' }), false);
    assert.equal(matches('f|re|i', '^abc', { f: 'ABCd' }), true);
    assert.equal(matches('f|re', '(?i)^abc', { f: 'ABCd' }), true);
    assert.equal(matches('f|re', '^b$', { f: 'a\nb' }), false);
    assert.equal(matches('f|re|m', '^b$', { f: 'a\nb' }), true);
    assert.equal(matches('f|re', 'a.b', { f: 'a\nb' }), false);
    assert.equal(matches('f|re|s', 'a.b', { f: 'a\nb' }), true);
  });
  test('an invalid regex is reported as unsupported', () => {
    assert.equal(issue('f|re', '(unclosed').feature, 're (syntax)');
  });
  test('windash: -, /, en dash, em dash and horizontal bar are interchangeable at a flag', () => {
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) {
      assert.equal(matches('f|windash|contains', ' -enc ', { f: `powershell ${dash}enc AAAA` }), true, dash);
    }
    assert.equal(matches('f|windash|contains', ' -enc ', { f: 'powershell xenc AAAA' }), false);
  });
  test('base64 and base64offset (the three alignments of the value)', () => {
    assert.equal(matches('f|base64', 'cmd', { f: 'Y21k' }), true);
    for (const prefix of ['', 'a', 'ab']) {
      const encoded = Buffer.from(`${prefix}/bin/bash -c id`).toString('base64');
      assert.equal(
        matches('f|base64offset|contains', '/bin/bash', { f: encoded }),
        true,
        `offset ${prefix.length}`,
      );
    }
    assert.equal(
      matches('f|base64offset|contains', '/bin/bash', { f: Buffer.from('/bin/sh').toString('base64') }),
      false,
    );
  });
  test('utf16le/wide, utf16be and utf16 (with BOM) encode the value', () => {
    assert.equal(matches('f|utf16le', 'cmd', { f: 'c\x00m\x00d\x00' }), true);
    assert.equal(matches('f|wide', 'cmd', { f: 'c\x00m\x00d\x00' }), true);
    assert.equal(matches('f|utf16be', 'cmd', { f: '\x00c\x00m\x00d' }), true);
    assert.equal(matches('f|utf16', 'cmd', { f: '\xff\xfec\x00m\x00d\x00' }), true);
    const wideB64 = Buffer.from('xx ping yy', 'utf16le').toString('base64');
    assert.equal(matches('f|wide|base64offset|contains', 'ping', { f: wideB64 }), true);
  });
  test('expand replaces placeholders with the configured values; a missing one rejects the rule', () => {
    assert.equal(matches('u|expand', '%Admins%', { u: 'ADM_bob' }), true);
    assert.equal(matches('u|expand', '%Admins%', { u: 'root' }), true);
    assert.equal(matches('u|expand', '%Admins%', { u: 'bob' }), false);
    assert.equal(matches('u', '%Admins%', { u: '%Admins%' }), true, 'without expand it is a literal');
    const p = issue('u|expand', '%Servers%');
    assert.equal(p.severity, 'unsupported');
    assert.match(p.message, /detect\.placeholders\.Servers/);
  });
});

describe('numeric, time, IP and field-reference modifiers', () => {
  test('lt/lte/gt/gte compare numbers (numeric strings too)', () => {
    assert.equal(matches('p|gt', 100, { p: 443 }), true);
    assert.equal(matches('p|lte', 100, { p: '443' }), false);
    assert.equal(matches('p|gte', 443, { p: 443 }), true);
    assert.equal(matches('p|lt', 443, { p: 'abc' }), false);
    assert.equal(issue('p|gt', 'many').feature, 'modifier gt');
  });
  test('time parts read epoch seconds, epoch ms and ISO text (UTC)', () => {
    const iso = '2018-03-24T17:15:20.865716Z';
    assert.equal(matches('ts|hour', 17, { ts: iso }), true);
    assert.equal(matches('ts|minute', 15, { ts: iso }), true);
    assert.equal(matches('ts|day', 24, { ts: 1521911720.86 }), true);
    assert.equal(matches('ts|month', 3, { ts: 1521911720860 }), true);
    assert.equal(matches('ts|year', 2018, { ts: iso }), true);
    assert.equal(matches('ts|week', 12, { ts: iso }), true);
    assert.equal(matches('ts|hour|gte', 18, { ts: iso }), false);
    assert.equal(matches('ts|hour|lt', 18, { ts: iso }), true);
  });
  test('cidr: IPv4 and IPv6 networks; a bad network is an error', () => {
    const nets = ['10.0.0.0/8', '::1/128', 'fc00::/7'];
    assert.equal(matches('ip|cidr', nets, { ip: '10.47.8.142' }), true);
    assert.equal(matches('ip|cidr', nets, { ip: 'fd12::1' }), true);
    assert.equal(matches('ip|cidr', nets, { ip: '134.71.3.16' }), false);
    assert.equal(matches('ip|cidr', nets, { ip: 'not-an-ip' }), false);
    assert.equal(issue('ip|cidr', '10.0.0.0/40').severity, 'error');
  });
  test('fieldref compares two fields of the same event; neq negates', () => {
    assert.equal(matches('a|fieldref', 'b', { a: 'X', b: 'x' }), true);
    assert.equal(matches('a|fieldref', 'b', { a: 'X', b: 'y' }), false);
    assert.equal(matches('a|fieldref|neq', 'b', { a: 'X', b: 'y' }), true);
    assert.equal(issue('a|fieldref|re', 'b').severity, 'unsupported');
  });
  test('fieldref with startswith / endswith / contains (pySigma SigmaFieldReference starts_with / ends_with)', () => {
    const ev = { CommandLine: 'C:\\Tools\\evil.exe -x', Image: 'c:\\tools\\EVIL.exe' };
    assert.equal(matches('CommandLine|fieldref|startswith', 'Image', ev), true);
    assert.equal(matches('CommandLine|fieldref|contains', 'Image', ev), true);
    assert.equal(matches('CommandLine|fieldref|endswith', 'Image', ev), false);
    assert.equal(matches('CommandLine|fieldref|startswith|cased', 'Image', ev), false);
    assert.equal(matches('Image|fieldref|endswith', 'Name', { Image: 'C:\\x\\a.exe', Name: 'A.EXE' }), true);
    assert.equal(
      matches('Image|fieldref|contains|neq', 'Name', { Image: 'C:\\x\\a.exe', Name: 'b.exe' }),
      true,
    );
  });
});

describe('glob matching (linear, no regex) agrees with the regex meaning of * and ?', () => {
  test('random patterns over a small alphabet give the same answer as an anchored regex', () => {
    const toRegex = (pattern: string) =>
      new RegExp(`^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c)).join('')}$`, 'is');
    fc.assert(
      fc.property(
        fc.stringMatching(/^[ab*?]{0,8}$/),
        fc.stringMatching(/^[abAB]{0,10}$/),
        (pattern, text) => {
          assert.equal(
            matches('f', pattern, { f: text }),
            toRegex(pattern).test(text),
            `${pattern} vs ${text}`,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('numbers against string values', () => {
  test('a number matches by its text in any case: ports, exponents, NaN and Infinity', () => {
    assert.equal(matches('port', [21, '80'], { port: 80 }), true);
    assert.equal(matches('port', ['8080'], { port: 80 }), false);
    assert.equal(matches('port|startswith', ['44', '80'], { port: 443 }), true);
    assert.equal(matches('big', ['1E+21'], { big: 1e21 }), true);
    assert.equal(matches('v', ['NAN'], { v: Number.NaN }), true);
    assert.equal(matches('v', ['infinity'], { v: Number.POSITIVE_INFINITY }), true);
    assert.equal(matches('v|cased', ['infinity'], { v: Number.POSITIVE_INFINITY }), false);
    // The same rule on a string field right after (the case-folded text is shared between rules).
    assert.equal(matches('state', ['sf'], { state: 'SF' }), true);
    assert.equal(matches('state', ['sf'], { state: 'S0' }), false);
  });
});
