# Sourced by bin/up.sh and bin/down.sh: the Pulumi CLI and backend for this command only.
# The CLI on PATH always wins; without one, Go builds the engine CI uses (.ci/engine.sh). The
# user's backend always wins; without one, the project-local file backend through
# PULUMI_BACKEND_URL, never `pulumi login` (that would change the user's login everywhere).
# shellcheck shell=bash

# Exits with the install hint when there is no CLI and nothing to build one with. Quick: up runs
# it before the stack-file check, the build itself after.
pulumi_cli_or_hint() {
  command -v pulumi >/dev/null 2>&1 && return 0
  command -v go >/dev/null 2>&1 && return 0
  cat >&2 <<'TXT'
sealbench: the Pulumi CLI is not installed (no `pulumi` on PATH), and there is no Go toolchain to build it.
  Install it:  curl -fsSL https://get.pulumi.com | sh    (or: brew install pulumi/tap/pulumi)
  then open a new shell, or add ~/.pulumi/bin to PATH, and run `npm run up` again.
  Or install Go (https://go.dev/dl/) and `npm run up` builds the engine from Go modules, as CI does.
TXT
  exit 127
}

# Puts a Pulumi CLI on PATH for this command: the user's, else the engine built (or reused) from Go modules.
pulumi_cli() {
  pulumi_cli_or_hint
  command -v pulumi >/dev/null 2>&1 && return 0
  # Not root: the engine cache goes where this user can write.
  if [ -z "${SEALBENCH_ENGINE_CACHE:-}" ] && ! { mkdir -p /var/cache/sealbench 2>/dev/null && [ -w /var/cache/sealbench ]; }; then
    export SEALBENCH_ENGINE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sealbench/engine"
  fi
  echo "sealbench: no Pulumi CLI on PATH; using the engine CI builds from Go modules (.ci/engine.sh)."
  echo "  The first time it builds the CLI, the Node.js language host and two providers: about 20 min on 2 CPUs; then it is reused at once."
  local engine_bin
  engine_bin=$(bash .ci/engine.sh | tail -n 1)
  # For this command only: nothing is installed on PATH, and there is no download site to check.
  export PATH="$engine_bin:$PATH" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  echo "sealbench: using $(pulumi version) from $engine_bin"
}

# The user's backend, if any: PULUMI_BACKEND_URL, an access token (Pulumi Cloud), or the current
# login in credentials.json. Otherwise the project's own file backend, for this command only.
pulumi_backend() {
  local credentials="${PULUMI_HOME:-$HOME/.pulumi}/credentials.json" current=""
  if [ -f "$credentials" ]; then
    current=$(node -e 'try { process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).current || "")) } catch { }' "$credentials")
  fi
  if [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_ACCESS_TOKEN:-}" ] && [ -z "$current" ]; then
    mkdir -p .pulumi-state
    echo "sealbench: no Pulumi backend set; using the project-local file backend .pulumi-state/ (PULUMI_BACKEND_URL for this command; your Pulumi login is not changed)"
    export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  fi
  # The dev stack holds no secrets; a file backend still asks for a passphrase to create it.
  if [ "${stack:-}" = dev ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE=""
  fi
}
