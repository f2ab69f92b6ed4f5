#!/usr/bin/env bash
# Generates the Chain Reactor API's TypeScript and Go clients from the committed OpenAPI
# document (docs/api/openapi.yaml) with openapi-generator, and builds them. Generated code is never committed: it is made here, from the
# document, so a client that does not build from the spec fails `make test`.
#
# openapi-generator-cli is a jar from Maven Central, checked against the SHA-256 below and kept
# in $DINFRA_CACHE; it runs on the JDK that ansible-rulebook uses. npm packages come through
# npm's cache in $DINFRA_CACHE/npm; the Go code needs nothing but the standard library.
source "$(dirname "$0")/lib.sh"

GENERATOR_VERSION=7.25.0
GENERATOR_SHA256=41ce4f6b07f196676439d710759fa1ced7a08066d06ff1bf314681470289efae
GENERATOR_URL="https://repo1.maven.org/maven2/org/openapitools/openapi-generator-cli/$GENERATOR_VERSION/openapi-generator-cli-$GENERATOR_VERSION.jar"
jar="$DINFRA_CACHE/openapi-generator/openapi-generator-cli-$GENERATOR_VERSION.jar"
spec="$ROOT/docs/api/openapi.yaml"

command -v java >/dev/null || die "java is needed for openapi-generator: make setup installs a JDK 17"
command -v npm >/dev/null || die "Node.js 20 and npm are needed for the TypeScript client"
command -v go >/dev/null || die "Go is needed for the Go client"

if ! echo "$GENERATOR_SHA256  $jar" | sha256sum -c --status 2>/dev/null; then
  log "downloading openapi-generator-cli $GENERATOR_VERSION"
  mkdir -p "$(dirname "$jar")"
  curl -sSfL --retry 3 -m 300 -o "$jar.tmp" "$GENERATOR_URL"
  echo "$GENERATOR_SHA256  $jar.tmp" | sha256sum -c --status || { rm -f "$jar.tmp"; die "openapi-generator-cli: checksum mismatch"; }
  mv "$jar.tmp" "$jar"
fi

# Generates into $2 with generator $1 unless $2 was made from this very spec and generator.
generate() {
  local generator="$1" out="$2" key; shift 2
  key="$(content_key "$spec" <(echo "$GENERATOR_VERSION $generator $*"))"
  [ "$(cat "$out/.generated-from" 2>/dev/null)" = "$key" ] && return
  log "generating the $generator client into ${out#"$ROOT"/}"
  rm -rf "$out"
  java -jar "$jar" generate -i "$spec" -g "$generator" -o "$out" --global-property=apiDocs=false,modelDocs=false,apiTests=false,modelTests=false "$@" \
    > "$DEV_DIR/openapi-generator-$generator.log" 2>&1 \
    || { tail -n 30 "$DEV_DIR/openapi-generator-$generator.log" >&2; die "openapi-generator $generator failed"; }
  # typescript-fetch writes its code under src/.
  if [ -d "$out/src" ]; then mv "$out/src"/* "$out/" && rmdir "$out/src"; fi
  # What a generator writes for a standalone repository (git_push.sh, CI files, its own module
  # file); these packages live in this one.
  rm -rf "$out"/{.openapi-generator,.openapi-generator-ignore,git_push.sh,.travis.yml,.gitignore,README.md,go.mod,go.sum,test,docs,api,package.json,tsconfig.json,tsconfig.esm.json,.npmignore}
  echo "$key" > "$out/.generated-from"
}

npm_ci() {
  (cd "$1" && npm ci --cache "$DINFRA_CACHE/npm" --prefer-offline --no-audit --no-fund --loglevel=error)
}

generate typescript-fetch "$ROOT/clients/typescript/src/generated" --additional-properties=supportsES6=true
ts="$ROOT/clients/typescript"
npm_ci "$ts"
log "building the TypeScript client"
(cd "$ts" && npx --no-install tsc -p .)

generate go "$ROOT/clients/go/dinfraapi" --additional-properties=packageName=dinfraapi,withGoMod=false,generateInterfaces=false,enumClassPrefix=true
log "building the Go client"
(cd "$ROOT/clients/go" && go vet ./... && go build ./...)

