// A minimal Language Server Protocol client over stdio, enough to ask `preflight lsp` for the
// semantic tokens of a text: what the parser itself reads each token as.
import { spawn } from 'node:child_process';

export class Server {
  constructor(command) {
    this.child = spawn(command, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.buffer = Buffer.alloc(0);
    this.waiting = new Map();
    this.nextId = 1;
    this.child.stdout.on('data', (chunk) => this.receive(chunk));
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.id !== undefined && this.waiting.has(message.id)) {
        this.waiting.get(message.id)(message);
        this.waiting.delete(message.id);
      }
    }
  }

  send(message) {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ id, method, params });
    });
  }

  notify(method, params) {
    this.send({ method, params });
  }

  /** Starts the session (positions in UTF-16 units, as JavaScript strings count). */
  async initialize() {
    const answer = await this.request('initialize', { processId: null, rootUri: null, capabilities: {} });
    this.legend = answer.result.capabilities.semanticTokensProvider.legend;
    this.notify('initialized', {});
  }

  /** The text's tokens: `{ line, start, length, type, modifiers }`, type a legend name. */
  async tokens(uri, text) {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'preflight', version: 1, text } });
    const answer = await this.request('textDocument/semanticTokens/full', { textDocument: { uri } });
    this.notify('textDocument/didClose', { textDocument: { uri } });
    const data = answer.result.data;
    const out = [];
    let line = 0;
    let start = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i];
      start = data[i] === 0 ? start + data[i + 1] : data[i + 1];
      const modifiers = this.legend.tokenModifiers.filter((_, bit) => data[i + 4] & (1 << bit));
      out.push({ line, start, length: data[i + 2], type: this.legend.tokenTypes[data[i + 3]], modifiers });
    }
    return out;
  }

  async stop() {
    await this.request('shutdown', null);
    this.notify('exit', null);
    await new Promise((resolve) => this.child.on('exit', resolve));
  }
}
