// The generated PowerShell collector, read by a real PowerShell parser (tree-sitter-powershell):
// every text a rules file contributes must be one string expression with exactly the intended
// value, and the script may call nothing but its own helpers and the cmdlets they use. Run for
// the built-in advisories and for a rules file whose texts carry every PowerShell quote and
// escape character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, Language } from 'web-tree-sitter';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const preflight = path.join(root, 'target/debug/preflight');

await Parser.init();
const grammar = path.join(root, 'web-demo/node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm');
const parser = new Parser();
parser.setLanguage(await Language.load(grammar));

// What the script itself defines and the cmdlets its helpers call: anything else is injected.
const COMMANDS = new Set([
  'Set-Fact', 'ConvertTo-Fact', 'Read-Registry', 'Read-Cim', 'Read-Env', 'Read-FileVersion', 'Join-Fact',
  'Convert-Mapped', 'Test-StoreCertificate', 'Test-UefiCertificate', 'Get-ItemProperty', 'Get-CimInstance',
  'Select-Object', 'Get-Item', 'Get-ChildItem', 'Where-Object', 'Get-SecureBootUEFI', 'ForEach-Object',
  'Get-HotFix', 'Sort-Object', 'ConvertTo-Json', 'Read-UninstallVersion',
]);

function collector(...files) {
  return execFileSync(preflight, ['collector', ...files], { encoding: 'utf8' });
}

function nodes(node, type, out = []) {
  if (node.type === type) out.push(node);
  for (const child of node.children) nodes(child, type, out);
  return out;
}

// The value of a string expression as the generator writes it: a single-quoted string, or a
// parenthesised concatenation of such strings and `[char]0xXXXX` casts. Anything else is null.
function value(node) {
  switch (node.type) {
    case 'verbatim_string_characters':
      return node.text.slice(1, -1).replaceAll("''", "'");
    case 'cast_expression': {
      let [type, number] = node.children;
      while (number?.childCount === 1) number = number.children[0];
      if (type?.text !== '[char]' || number?.type !== 'hexadecimal_integer_literal') return null;
      return String.fromCharCode(Number.parseInt(number.text.slice(2), 16));
    }
    case 'additive_expression': {
      if (node.childCount === 1) return value(node.children[0]);
      const [left, op, right] = node.children;
      if (op?.type !== '+') return null;
      const [l, r] = [value(left), value(right)];
      return l === null || r === null ? null : l + r;
    }
    case 'parenthesized_expression':
      return node.childCount === 3 ? value(node.children[1]) : null;
    default:
      return node.childCount === 1 ? value(node.children[0]) : null;
  }
}

// Every string value the script spells out, each from the outermost expression that is one.
function strings(node, out = []) {
  const v = ['verbatim_string_characters', 'parenthesized_expression'].includes(node.type) ? value(node) : null;
  if (v !== null) {
    out.push(v);
    return out;
  }
  for (const child of node.children) strings(child, out);
  return out;
}

function checkScript(script) {
  assert.ok(script.startsWith('\uFEFF'), 'UTF-8 with a byte order mark');
  const tree = parser.parse(script);
  assert.equal(tree.rootNode.hasError, false, 'the script parses without errors');
  const called = new Set(nodes(tree.rootNode, 'command_name').map((n) => n.text));
  for (const name of called) assert.ok(COMMANDS.has(name), `the script calls ${JSON.stringify(name)}`);
  // Expandable strings ("...") and here-strings would interpret `$` and backticks: none is
  // written from rules data (the prelude's own are fixed text, checked by the command list).
  let code = script.slice(1);
  for (const comment of nodes(tree.rootNode, 'comment')) code = code.replace(comment.text, '');
  const outside = [...code].filter((c) => c !== '\n' && (c < ' ' || c > '~'));
  assert.deepEqual(outside, [], 'outside comments the script is printable ASCII');
  return { tree, values: new Set(strings(tree.rootNode)) };
}

test('the built-in collector parses, calls only its own helpers and spells every rules text', () => {
  const script = collector();
  const { values } = checkScript(script);
  for (const expected of ['Win32_OperatingSystem', 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion',
    'UBR', 'Windows_NT', 'Virtual|VMware|KVM|HVM|Xen']) {
    assert.ok(values.has(expected), `${expected} is one string`);
  }
});

const HOSTILE = [
  "\u2019; Start-Process calc.exe; \u2019",
  "\u2018x\u201By\u201Az",
  "it's ''quoted''",
  '`$(Start-Process calc)`',
  '$(Start-Process calc)',
  "@'\nStart-Process calc\n'@",
  '@"\nStart-Process calc\n"@',
  '"; Start-Process calc; "',
  'nul\u0000byte',
  '\u202Eexe.txt\u200F',
  'line\u2028sep\u2029para\u0085next',
  'Cyrillic \u0412 and \u00D0\u2019',
  'astral \u{1F600}',
  'tab\there\nnewline',
  '#> Start-Process calc <#',
];

// A rules-file string holding `text`: `"` and `\` escaped, line ends written as escapes where
// the language has them, every other character as it is.
function rulesString(text) {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('{', '\\{').replaceAll('}', '\\}')
    .replaceAll('\n', '\\n').replaceAll('\t', '\\t')}"`;
}

test('hostile texts from a rules file stay strings with exactly their value', () => {
  const facts = HOSTILE.map((text, i) => {
    const s = rulesString(text);
    return [
      `    r${i}: string? from registry ${s} ${s}`,
      `    c${i}: string? from cim ${s} ${s} + ${s} + env ${s}`,
      `    f${i}: string? from file_version ${s} map { ${s} = ${s}, matches ${s} = ${s}, else = ${s}, missing = ${s} }`,
      `    s${i}: bool? from cert_store ${s} ${s}`,
      `    u${i}: bool? from uefi ${s} ${s}`,
    ].join('\n');
  });
  const detect = `  detect ${HOSTILE.map(rulesString).join(', ')}`;
  const rules = `advisory hostile {
  title ${rulesString(HOSTILE.join(' '))}
  published 2023-01-01
}

facts {
  os {
    platform: string = "windows"
    version: build
    product_type: enum(workstation, server)
  }
  product {
    /// ${HOSTILE.filter((t) => !/[\n\r\u2028\u2029\u0085]/.test(t)).join(' ')}
    id: product from uninstall
  }
  hostile {
${facts.join('\n')}
  }
}

host {
  product = product.id
  platform = os.platform
  os_version = os.version
  os_role = os.product_type
}

product agent {
  name "Agent"
  versions all
  platforms windows
${detect}
}

os win10 {
  name "Windows 10"
  build 10.0.19044
  role workstation
}

rule on_win10 {
  when host.os == win10
  severity info
  message "Windows 10"
}
`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-collector-'));
  const file = path.join(dir, 'hostile.preflight');
  fs.writeFileSync(file, rules);
  const check = spawnSync(preflight, ['check', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const { values } = checkScript(collector(file));
  for (const text of HOSTILE) {
    assert.ok(values.has(text), `${JSON.stringify(text)} is one string with that value`);
  }
  fs.rmSync(dir, { recursive: true });
});

test('rules that carry PowerShell code are refused unless allowed, then listed at the top', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-collector-'));
  const file = path.join(dir, 'code.preflight');
  const minimal = fs.readFileSync(path.join(root, 'tests/data/check/ok/minimal.preflight'), 'utf8');
  fs.writeFileSync(file, minimal.replace('esu: bool = false', 'esu: bool = false from powershell "Get-Secret"'));
  const refused = spawnSync(preflight, ['collector', file], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /demo esu: Get-Secret/);
  assert.match(refused.stderr, /--allow-code/);
  assert.equal(refused.stdout, '');
  const script = execFileSync(preflight, ['collector', '--allow-code', file], { encoding: 'utf8' });
  const top = script.slice(0, script.indexOf('#>'));
  assert.match(top, /Runs this PowerShell code[^\n]*\n\s+- demo esu: Get-Secret/);
  const tree = parser.parse(script);
  assert.ok(nodes(tree.rootNode, 'command_name').some((n) => n.text === 'Get-Secret'), 'the code, as allowed');
  fs.rmSync(dir, { recursive: true });
});
