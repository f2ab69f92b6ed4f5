"""The Chain Reactor API: a service a provider runs next to a reactor written in any language.
It follows the finalised chain with the dinfra.chain collection's own chain code, and serves
the provider's deployments over HTTP (docs/api.md)."""
