// @labrun/auth — who may use labrun and how: roles and their topic rules (acl), the auth file of users and
// gateway tokens (auth-file), and the `user` command that edits it. The broker enforces them, the gateway checks
// tokens with them, the CLI manages them; none of those apps imports another for it.
export * from './acl.js';
export * from './auth-file.js';
export * from './user-command.js';
export * from './devices.js';
