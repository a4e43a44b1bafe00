// The extension's code: it runs `spindle dap` (the setting spindle.path names the command) as
// the debug adapter of the "spindle" debug type, and gives the command palette Step Back and
// Reverse Continue, which VS Code has only as buttons of the debug toolbar. Everything else is
// declared in package.json.
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('spindle', {
    createDebugAdapterDescriptor(session) {
      const command = vscode.workspace.getConfiguration('spindle').get('path') || 'spindle';
      return new vscode.DebugAdapterExecutable(command, ['dap'], { cwd: session.workspaceFolder?.uri.fsPath });
    },
  }));
  // The toolbar's buttons run these commands of the workbench on the focused thread; the
  // palette's entries run the same.
  context.subscriptions.push(
    vscode.commands.registerCommand('spindle.stepBack', () => vscode.commands.executeCommand('workbench.action.debug.stepBack')),
    vscode.commands.registerCommand('spindle.reverseContinue', () => vscode.commands.executeCommand('workbench.action.debug.reverseContinue')),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
