// The packaged extension (built by `npm run package` with the official packaging tool, vsce) holds
// what VS Code needs and nothing of the tests or the build tools; and the client starts
// `preflight lsp` for rules files, as configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Module from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const vsix = path.resolve(here, '../../../target/preflight.vsix');

/** The entries of a zip file (a .vsix is one), read with Python's zipfile. */
function entries(file) {
  const script = 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))';
  return execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }).trim().split('\n');
}

function entry(file, name) {
  const script = 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())';
  return execFileSync('python3', ['-c', script, file, name], { encoding: 'utf8' });
}

test('the .vsix holds the bundled client, the grammars and the language configuration, and no test or build tool', () => {
  assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
  const names = entries(vsix);
  for (const must of [
    'extension.vsixmanifest',
    '[Content_Types].xml',
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/language-configuration.json',
    'extension/syntaxes/preflight.tmLanguage.json',
    'extension/syntaxes/preflight.markdown.tmLanguage.json',
    'extension/readme.md',
    'extension/changelog.md',
    'extension/LICENSE.txt',
  ]) {
    assert.ok(names.includes(must), `${must} is not in the package`);
  }
  // The client is bundled with its dependencies into dist/extension.js: no node_modules, no
  // sources, no tests.
  for (const name of names) {
    assert.ok(!/^extension\/(test|node_modules)\//.test(name), `${name} is shipped`);
    assert.notEqual(name, 'extension/extension.js');
  }
  const manifest = JSON.parse(entry(vsix, 'extension/package.json'));
  const source = JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8'));
  assert.equal(manifest.version, source.version);
  assert.equal(manifest.contributes.languages[0].id, 'preflight');
  assert.deepEqual(manifest.contributes.languages[0].extensions, ['.preflight']);
  assert.equal(manifest.contributes.grammars[0].scopeName, 'source.preflight');
  assert.equal(manifest.main, './dist/extension.js');
  // The packaged grammar is the checked one.
  assert.equal(
    entry(vsix, 'extension/syntaxes/preflight.tmLanguage.json'),
    readFileSync(path.join(here, '../syntaxes/preflight.tmLanguage.json'), 'utf8'),
  );
});

test('the extension version is the workspace version', () => {
  const cargo = readFileSync(path.resolve(here, '../../../Cargo.toml'), 'utf8');
  const version = /^\[workspace\.package\][^[]*?^version = "([^"]+)"/ms.exec(cargo)[1];
  assert.equal(JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8')).version, version);
});

/** Loads extension.js with stand-ins for the editor API and the language client. */
function loadExtension(settings) {
  const started = [];
  const registered = {};
  const listeners = [];
  class LanguageClient {
    constructor(id, name, server, client) {
      Object.assign(this, { id, name, server, client, running: false });
    }
    async start() {
      this.running = true;
      started.push(this);
    }
    async stop() {
      this.running = false;
    }
  }
  const vscode = {
    workspace: {
      getConfiguration: () => ({ get: (key, fallback) => settings[key] ?? fallback }),
      onDidChangeConfiguration: (listener) => listeners.push(listener),
    },
    commands: { registerCommand: (name, run) => (registered[name] = run) },
    window: { showErrorMessage: () => {} },
  };
  const stubs = { vscode, 'vscode-languageclient/node': { LanguageClient } };
  const load = Module._load;
  Module._load = (request, ...rest) => stubs[request] ?? load(request, ...rest);
  try {
    const file = path.join(here, '../extension.js');
    delete Module._cache[file];
    return { extension: Module.createRequire(file)(file), started, registered, listeners };
  } finally {
    Module._load = load;
  }
}

test('the client starts `preflight lsp` for rules files, and restarts it on request and on new settings', async () => {
  const settings = { 'server.path': '/opt/preflight/bin/preflight', 'server.extraArgs': ['--flag'] };
  const { extension, started, registered, listeners } = loadExtension(settings);
  await extension.activate({ subscriptions: [] });
  assert.equal(started.length, 1);
  assert.deepEqual(started[0].server.run, { command: '/opt/preflight/bin/preflight', args: ['lsp', '--flag'] });
  assert.deepEqual(started[0].client.documentSelector, [{ language: 'preflight' }]);
  await registered['preflight.restartServer']();
  assert.equal(started.length, 2);
  assert.equal(started[0].running, false);
  settings['server.path'] = 'preflight';
  await listeners[0]({ affectsConfiguration: (section) => section === 'preflight.server' });
  assert.equal(started.length, 3);
  assert.equal(started[2].server.run.command, 'preflight');
  await listeners[0]({ affectsConfiguration: () => false });
  assert.equal(started.length, 3);
  await extension.deactivate();
  assert.equal(started[2].running, false);
});

test('the bundled client loads with only the editor API around it', () => {
  const script = 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("extension/dist/extension.js").decode())';
  const bundle = execFileSync('python3', ['-c', script, vsix], { encoding: 'utf8' });
  const module = { exports: {} };
  const requireStub = (name) => {
    // Any part of the editor API is a function that can also be a base class.
    if (name === 'vscode') return new Proxy({}, { get: () => function Stub() {} });
    return Module.createRequire(import.meta.url)(name);
  };
  new Function('module', 'exports', 'require', bundle)(module, module.exports, requireStub);
  assert.equal(typeof module.exports.activate, 'function');
  assert.equal(typeof module.exports.deactivate, 'function');
});
