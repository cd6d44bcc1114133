import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectFormat } from '../../src/parsers/detect-format.ts';

test('each format is recognised from a few typical lines', () => {
  const cases: Array<[string[], string | undefined]> = [
    [['#separator \\x09', '#set_separator\t,'], 'zeek-tsv'],
    [['{"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","uid":"C1"}'], 'zeek-json'],
    [['{"dns":{"ts":1.5,"uid":"C1","id.orig_h":"1.2.3.4"}}'], 'zeek-json'],
    [
      ['{"timestamp":"2017-01-30T16:12:26.985026+0100","event_type":"dns","src_ip":"1.2.3.4"}'],
      'suricata-eve',
    ],
    [['Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 35.188.49.176 port 53502'], 'sshd'],
    [
      ['{"event_time":"2026-01-31T10:00:00Z","user":"alice","src_ip":"203.0.113.7","outcome":"failure"}'],
      'auth-json',
    ],
    [['127.0.0.1 - - [29/Sep/2021:14:11:34 +0200] "HEAD / HTTP/1.1" 200 0 "-" "Nikto"'], 'nginx'],
    [
      ['2021/09/30 09:23:53 [error] 1925800#1925800: *17 user "foo" was not found, client: 127.0.0.1'],
      'nginx',
    ],
    [
      ['{"service": "fastapi", "event": "login_failed", "username": "alice", "ip": "203.0.113.7"}'],
      'app-json',
    ],
    [['{"host": "endpoint01", "threat": "malware.exe", "severity": "high"}'], 'threat-json'],
    [['{"anything": 1}'], 'json'],
    [['hello world', 'more prose'], undefined],
    [[], undefined],
  ];
  for (const [lines, want] of cases) assert.equal(detectFormat(lines), want, lines[0]);
});

test('a garbage first line does not hide the format of the lines after it', () => {
  const eve = '{"timestamp":"2017-01-30T16:12:26.985026+0100","event_type":"dns"}';
  assert.equal(detectFormat(['\t1b32rüe9ope\tg24bü8b4f2bdfüiobn10ü', eve, eve, eve]), 'suricata-eve');
});

test('container wrappers are recognised whatever they wrap (Docker json-file, CRI)', () => {
  const ssh =
    'Sep 30 12:11:33 ip-172-31-43-28 sshd[22789]: Invalid user hadoop from 103.100.210.198 port 56762';
  assert.equal(
    detectFormat([JSON.stringify({ log: `${ssh}\n`, stream: 'stdout', time: '2026-03-14T08:00:00Z' })]),
    'container',
  );
  assert.equal(detectFormat([`2026-03-14T08:00:00.123Z stdout F ${ssh}`]), 'container');
});
