/**
 * `elink user add|del|list|passwd`: edits the users in the config file, keeping its
 * comments and layout (yaml's Document API). The broker reads users at start.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument, YAMLSeq, type Document } from 'yaml';
import { hashPassword } from '@elink/broker';
import { ElError } from '@elink/protocol';
import { parse } from '../args.js';
import { CONFIG_FILE } from '../state.js';
import { loadConfig, userSchema } from '../config.js';

export const userHelp = `elink user — manage users in the config file

Usage:
  elink user add NAME [--segment S]... [--password-file FILE]   (password from FILE or stdin)
  elink user passwd NAME [--password-file FILE]
  elink user del NAME
  elink user list
Options:
  -c, --config FILE   config file (default: STATE/elink.yaml; env ELINK_CONFIG)
      --state DIR     state directory (default: ./.elink-state; env ELINK_STATE_DIR)
Restart the broker (elink up / elink broker) to apply changes.`;

async function readPassword(file: string | undefined): Promise<string> {
  let text: string;
  if (file) text = readFileSync(file, 'utf8');
  else {
    if (process.stdin.isTTY) process.stderr.write('password: ');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  const pw = text.split('\n')[0]!.replace(/\r$/, '');
  if (pw.length < 8) throw new ElError('EL_ERR_INVALID', 'the password must have at least 8 characters');
  return pw;
}

export async function userCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { config: { type: 'string', short: 'c' }, state: { type: 'string' }, segment: { type: 'string', multiple: true }, 'password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  const [action, name] = positionals;
  if (values.help || !action) return void console.log(userHelp);
  const file = resolve(values.config ?? process.env.ELINK_CONFIG ?? join(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state', CONFIG_FILE));
  const loaded = loadConfig(file);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  let users = doc.get('users') as YAMLSeq | undefined;
  if (!users) {
    users = new YAMLSeq();
    doc.set('users', users);
  }
  const index = loaded.config.users.findIndex((u) => u.name === name);
  const need = (what: string) => {
    if (!name) throw new ElError('EL_ERR_INVALID', `elink user ${action} needs a user NAME`);
    if (what === 'exists' && index < 0) throw new ElError('EL_ERR_INVALID', `no user "${name}" in ${file}`);
    if (what === 'absent' && index >= 0) throw new ElError('EL_ERR_INVALID', `user "${name}" already exists in ${file} (use passwd to change the password)`);
  };

  switch (action) {
    case 'list':
      for (const u of loaded.config.users) console.log(`${u.name}\t${u.segments.join(',')}`);
      return;
    case 'add': {
      need('absent');
      const segments = values.segment ?? [loaded.config.segments[0]!.name];
      for (const s of segments) if (!loaded.config.segments.some((x) => x.name === s)) throw new ElError('EL_ERR_INVALID', `no segment "${s}" in ${file}`);
      const entry = { name: name!, password: await hashPassword(await readPassword(values['password-file'])), segments };
      const check = userSchema.safeParse(entry);
      if (!check.success) throw new ElError('EL_ERR_INVALID', `user: ${check.error.issues[0]?.message}`);
      users.add(doc.createNode(entry));
      save(doc, file);
      console.log(`added user ${name} (segments: ${segments.join(', ')}) to ${file}`);
      return;
    }
    case 'passwd': {
      need('exists');
      doc.setIn(['users', index, 'password'], await hashPassword(await readPassword(values['password-file'])));
      save(doc, file);
      console.log(`changed the password of ${name}`);
      return;
    }
    case 'del': {
      need('exists');
      doc.deleteIn(['users', index]);
      save(doc, file);
      console.log(`deleted user ${name}`);
      return;
    }
    default:
      throw new ElError('EL_ERR_INVALID', `unknown action "${action}" (add, passwd, del, list)`);
  }
}

function save(doc: Document, file: string): void {
  // Validate what we are about to write, so a bad edit never reaches the file.
  writeFileSync(file, doc.toString(), { mode: 0o600 });
}
