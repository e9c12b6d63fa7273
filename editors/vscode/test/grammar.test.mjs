// The TextMate grammar against the parser: every token of every rules file in docs/language.md
// (each ```preflight and ```preflight-snippet block), rules/, the test advisories and the checker's
// goldens is coloured as what `preflight lsp` says the parser reads it as, and nothing else is
// coloured as a keyword, literal, comment, function, type or declaration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createRequire } from 'node:module';
import vsctm from 'vscode-textmate';
import { Server } from './support/lsp-client.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const binary = process.env.PREFLIGHT_BIN ?? path.join(root, 'target/debug/preflight');

/** What a semantic token type must be coloured as: a prefix of one of its TextMate scopes. */
const EXPECTED = {
  keyword: 'keyword',
  comment: 'comment',
  string: 'string',
  number: 'constant.numeric',
  operator: 'keyword.operator',
  function: 'support.function',
  type: 'support.type',
  enumMember: 'constant',
  variable: 'entity.name',
};
/** Scopes only a parser token may carry. */
const RESERVED = [
  'keyword',
  'comment',
  'string',
  'constant.numeric',
  'constant.language',
  'support.function',
  'support.type',
  'entity.name',
];

async function loadGrammar() {
  const oniguruma = require('vscode-oniguruma');
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.preflight') return null;
      const file = path.join(here, '../syntaxes/preflight.tmLanguage.json');
      return vsctm.parseRawGrammar(readFileSync(file, 'utf8'), file);
    },
  });
  return registry.loadGrammar('source.preflight');
}

/** The rules files to check, as `{ name, text }`. */
function sources() {
  const out = [];
  const doc = readFileSync(path.join(root, 'docs/language.md'), 'utf8');
  const block = /^```(preflight(?:-snippet)?)\n([\s\S]*?)^```$/gm;
  let m;
  let n = 0;
  while ((m = block.exec(doc))) {
    n += 1;
    out.push({ name: `docs/language.md block ${n} (${m[1]})`, text: m[2] });
  }
  // The checker's goldens too, but those with syntax errors (P0001, P0002): the parser reads
  // nothing of them.
  for (const dir of ['rules', 'tests/data/advisories', 'tests/data/check/ok', 'tests/data/check/err']) {
    const files = readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.preflight') && !/^P000[12]-/.test(f));
    for (const file of files.sort()) {
      out.push({ name: `${dir}/${file}`, text: readFileSync(path.join(root, dir, file), 'utf8') });
    }
  }
  return out;
}

/** Each line's scopes per UTF-16 unit, and whether the grammar ends where it started. */
function scopesOf(grammar, text) {
  let state = vsctm.INITIAL;
  const lines = text.split('\n');
  const scopes = lines.map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    const perUnit = new Array(line.length);
    for (const token of result.tokens) {
      for (let i = token.startIndex; i < Math.min(token.endIndex, line.length); i++) perUnit[i] = token.scopes;
    }
    return perUnit;
  });
  return { lines, scopes, closed: state.depth === 1 };
}

test('the grammar colours every token as the parser reads it', async () => {
  const grammar = await loadGrammar();
  const server = new Server(binary);
  await server.initialize();
  const seen = new Set();
  const problems = [];
  const files = sources();
  assert.ok(files.filter((f) => f.name.startsWith('docs/')).length >= 6, 'the language guide has its examples');
  for (const [index, { name, text }] of files.entries()) {
    const tokens = await server.tokens(`file:///check/${index}.preflight`, text);
    assert.ok(tokens.length > 0, `${name}: the server read no tokens (does it parse?)`);
    const { lines, scopes, closed } = scopesOf(grammar, text);
    if (!closed) problems.push(`${name}: the grammar does not return to the top level at the end`);
    const claimed = lines.map((line) => new Array(line.length).fill(false));
    for (const token of tokens) {
      // Names the server colours by what they name (a fact, an OS, a rule...) are beyond a
      // grammar: their places are claimed, their colour not checked.
      if (token.modifiers.includes('reference')) {
        for (let i = token.start; i < token.start + token.length; i++) claimed[token.line][i] = true;
        continue;
      }
      seen.add(token.type);
      const want = EXPECTED[token.type];
      const line = lines[token.line];
      const word = line.slice(token.start, token.start + token.length);
      for (let i = token.start; i < token.start + token.length; i++) {
        claimed[token.line][i] = true;
        if (/\s/.test(line[i])) continue;
        const have = scopes[token.line][i] ?? [];
        if (!have.some((s) => s.startsWith(want))) {
          problems.push(`${name}:${token.line + 1}:${i + 1}: \`${word}\` is a ${token.type}, coloured ${have.join(' ')}`);
          break;
        }
      }
    }
    lines.forEach((line, l) => {
      for (let i = 0; i < line.length; i++) {
        if (claimed[l][i] || /\s/.test(line[i])) continue;
        const reserved = (scopes[l][i] ?? []).find((s) => RESERVED.some((r) => s.startsWith(r)));
        if (reserved) {
          problems.push(`${name}:${l + 1}:${i + 1}: \`${line.slice(i).split(/\s/)[0]}\` is plain, coloured ${reserved}`);
          break;
        }
      }
    });
  }
  await server.stop();
  assert.deepEqual(problems, []);
  // Every kind of token occurs, so every construct of the grammar was exercised.
  assert.deepEqual([...seen].sort(), Object.keys(EXPECTED).sort());
});

test('the markdown injection colours preflight blocks in documentation', async () => {
  const file = path.join(here, '../syntaxes/preflight.markdown.tmLanguage.json');
  const injection = JSON.parse(readFileSync(file, 'utf8'));
  const begin = new RegExp(
    injection.repository['preflight-code-block'].begin.replace('(?i:', '(?:').replace('\\G', '^'),
    'i',
  );
  assert.ok(begin.test('```preflight'));
  assert.ok(begin.test('```preflight-snippet'));
  assert.ok(!begin.test('```text'));
  assert.equal(injection.repository['preflight-code-block'].patterns[0].patterns[0].include, 'source.preflight');
});
