#!/usr/bin/env bash
# Runs docs/editors.md's first session in a real VS Code: code-server, in a headless Chromium
# that puppeteer-core drives. It installs what is missing (Chromium from apt, code-server and
# puppeteer-core from npm), builds spindle and the extension's .vsix as the doc says, and runs
# session.js, which fails when the session does not behave as the doc says. README.md says more.
#
#   editors/vscode/test/e2e/run.sh                      # the session, with its assertions
#   editors/vscode/test/e2e/run.sh --shots docs/editors # ... and the doc's screenshots
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
work=${SPINDLE_E2E_DIR:-/tmp/spindle-vscode-e2e}
mkdir -p "$work"

# code-server's npm package builds VS Code's native modules for the Node.js that installs it,
# and refuses any other major version: pick the release made for this one.
node_major=$(node -p 'process.versions.node.split(".")[0]')
case "${CODE_SERVER_VERSION:-$node_major}" in
  20) cs_version=4.100.3 ;;
  [0-9]*.*) cs_version=$CODE_SERVER_VERSION ;;
  *) echo "run.sh: no code-server release is known to build with Node.js $node_major; set CODE_SERVER_VERSION" >&2; exit 2 ;;
esac
code_server=$work/code-server-$cs_version/node_modules/.bin/code-server

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "run.sh: $* missing, and no apt-get to install them with" >&2
    exit 2
  fi
  [[ -n ${apt_updated:-} ]] || { apt-get update -q >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

echo "--- Chromium"
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z $chromium ]]; then
  apt_install chromium
  chromium=$(command -v chromium)
fi
echo "$chromium"

echo "--- code-server $cs_version"
if [[ ! -x $code_server ]]; then
  # Its install script builds native modules (kerberos needs the GSSAPI headers) against the
  # headers of the Node.js that runs it (nodedir, rather than headers downloaded from
  # nodejs.org), and runs npx without asking (npm_config_yes). @vscode/ripgrep downloads its rg
  # from GitHub unless the archive is in its cache: the cache is filled from the rg that the
  # npm package @vscode/ripgrep-linux-x64 ships.
  if ! [[ -e /usr/include/gssapi/gssapi.h ]] || ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
    apt_install libkrb5-dev g++ make python3
  fi
  nodedir=$(dirname "$(dirname "$(command -v node)")")
  [[ -e $nodedir/include/node/node.h ]] || { echo "run.sh: no Node.js headers in $nodedir/include/node" >&2; exit 2; }
  rgdir=$work/ripgrep
  rm -rf "$rgdir" && mkdir -p "$rgdir"
  (cd "$rgdir" && npm pack --silent @vscode/ripgrep-linux-x64@1.18.0 >/dev/null && tar xzf vscode-ripgrep-linux-x64-1.18.0.tgz)
  tmp=$work/tmp
  mkdir -p "$tmp"
  for v in 1.15.9 1.15.10 1.15.11 1.15.13 1.15.14; do
    mkdir -p "$tmp/vscode-ripgrep-cache-$v"
    tar czf "$tmp/vscode-ripgrep-cache-$v/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$rgdir/package/bin" rg
  done
  mkdir -p "$work/code-server-$cs_version"
  (cd "$work/code-server-$cs_version" &&
    TMPDIR=$tmp npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=$nodedir \
      npm install --no-audit --no-fund --no-save "code-server@$cs_version" > "$work/code-server-install.log" 2>&1) || {
    tail -40 "$work/code-server-install.log" >&2
    echo "run.sh: code-server did not install: $work/code-server-install.log has the whole log" >&2
    exit 1
  }
fi
"$code_server" --version | head -1

echo "--- puppeteer-core"
(cd "$here" && npm ci --no-audit --no-fund --silent)

echo "--- spindle, with the protocol logged to $work/dap.log"
(cd "$root" && go build -o "$work/spindle" ./cmd/spindle)
cat > "$work/spindle-dap" <<EOF
#!/bin/sh
exec "$work/spindle" "\$@" --log "$work/dap.log"
EOF
chmod +x "$work/spindle-dap"

echo "--- the extension, built as docs/editors.md says"
(cd "$root/editors/vscode" && rm -f spindle-*.vsix && npm ci --no-audit --no-fund --silent && npx @vscode/vsce package --skip-license)
vsix=$(ls "$root"/editors/vscode/spindle-*.vsix)

echo "--- the session"
node "$here/session.js" --code-server "$code_server" --chromium "$chromium" --vsix "$vsix" \
  --spindle "$work/spindle-dap" --repo "$root" --work "$work" "$@"
