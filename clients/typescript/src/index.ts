// The DINFRA Chain Reactor API client: generated from docs/api/openapi.yaml
// (./generated, made by scripts/setup-clients.sh, never edited), the event stream the
// generator cannot read, and Substrate ed25519 accounts as OpenSSH keys.
export * from "./generated";
export * from "./events";
export * from "./sshKeys";
