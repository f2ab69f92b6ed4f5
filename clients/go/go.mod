// The DINFRA Chain Reactor API's Go client: package dinfraapi is generated from
// docs/api/openapi.yaml by scripts/setup-clients.sh (openapi-generator's go generator) and
// never committed; package events reads the event stream, which the generator cannot.
module dinfra.example/apiclient

go 1.23
