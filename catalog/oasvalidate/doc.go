// Package oasvalidate holds the tests that validate the catalog's OpenAPI
// output against the OpenAPI 3.1 schema and the real httpx bodies against
// the published Problem schema. It is a module of its own so that the
// validators stay out of otelkit's go.mod; it has no API.
//
// Run its tests from this directory: go test ./...
package oasvalidate
