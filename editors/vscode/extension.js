// The Preflight extension: the grammar and language configuration are declared in package.json;
// this starts `preflight lsp` for every `.preflight` file and restarts it on request or when its
// settings change.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('preflight');
  const command = config.get('server.path') || 'preflight';
  const args = ['lsp', ...config.get('server.extraArgs', [])];
  return { run: { command, args }, debug: { command, args } };
}

async function start() {
  client = new LanguageClient('preflight', 'Preflight', serverOptions(), {
    documentSelector: [{ language: 'preflight' }],
  });
  try {
    await client.start();
  } catch (error) {
    const command = vscode.workspace.getConfiguration('preflight').get('server.path');
    vscode.window.showErrorMessage(
      `Preflight: could not start \`${command} lsp\` (${error.message}). ` +
        'Install preflight (`cargo install --path cli`) or set "preflight.server.path".',
    );
  }
}

async function restart() {
  if (client) {
    await client.stop().catch(() => {});
  }
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('preflight.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) =>
      event.affectsConfiguration('preflight.server') ? restart() : undefined,
    ),
  );
  await start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
