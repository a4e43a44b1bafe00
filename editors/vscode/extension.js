// The extension's code: it runs `spindle dap` (the setting spindle.path names the command) as
// the debug adapter of the "spindle" debug type. Everything else is declared in package.json.
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('spindle', {
    createDebugAdapterDescriptor(session) {
      const command = vscode.workspace.getConfiguration('spindle').get('path') || 'spindle';
      return new vscode.DebugAdapterExecutable(command, ['dap'], { cwd: session.workspaceFolder?.uri.fsPath });
    },
  }));
}

function deactivate() {}

module.exports = { activate, deactivate };
